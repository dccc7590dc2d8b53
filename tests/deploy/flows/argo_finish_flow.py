"""@trigger_on_finish of a flow that need not have run on this machine."""

from stepwell import FlowSpec, step, trigger_on_finish


@trigger_on_finish(flow="UpstreamFlow")
class FinishFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FinishFlow()
