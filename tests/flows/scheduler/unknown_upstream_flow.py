from stepwell import FlowSpec, step, trigger_on_finish


@trigger_on_finish(flow="NoSuchFlow")
class UnknownUpstreamFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnknownUpstreamFlow()
