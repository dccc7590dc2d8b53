from stepwell import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data_ready", "parameters": {"dya": "date"}})
class MissingParameterFlow(FlowSpec):
    day = Parameter("day", default="none")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingParameterFlow()
