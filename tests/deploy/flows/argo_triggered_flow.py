"""@trigger on two events; the first one's 'date' field sets the 'day' parameter."""

from stepwell import FlowSpec, Parameter, step, trigger


@trigger(events=[{"name": "data_ready", "parameters": {"day": "date"}}, "model_ready"])
class TriggeredFlow(FlowSpec):
    day = Parameter("day", default="none")
    count = Parameter("count", default=3)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TriggeredFlow()
