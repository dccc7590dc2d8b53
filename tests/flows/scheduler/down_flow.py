"""Deployed with @trigger_on_finish: starts when UpFlow succeeds."""

from stepwell import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="UpFlow")
class DownFlow(FlowSpec):
    @step
    def start(self):
        upstream = current.trigger.run
        self.upstream = upstream.pathspec
        self.doubled = upstream["start"].task.data.value * 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DownFlow()
