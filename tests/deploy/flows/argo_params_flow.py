"""Parameters of every kind, and a Config."""

from stepwell import Config, FlowSpec, JSONType, Parameter, step


class ParamsFlow(FlowSpec):
    rate = Parameter("rate", default=0.25)
    epochs = Parameter("epochs", default=10)
    verbose = Parameter("verbose", default=False)
    label = Parameter("label", default="v1")
    grid = Parameter("grid", type=JSONType, default={"depth": [2, 4]})
    tags_list = Parameter("tags-list", default="a,b", separator=",")
    dataset = Parameter("dataset", required=True)
    note = Parameter("note")
    settings = Config("settings", default_value={"lr": 0.1})

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParamsFlow()
