"""Benchmark flow for the local scheduler: a trivial run started by the event 'bench_go'."""

from stepwell import FlowSpec, step, trigger


@trigger(event="bench_go")
class SchedEventFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SchedEventFlow()
