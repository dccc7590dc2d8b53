"""Parameters that must be given right: an int `count` and a required `label`."""

from stepwell import FlowSpec, Parameter, step


class ParamsFlow(FlowSpec):
    """Echoes its parameters."""

    count = Parameter("count", default=1, type=int, help="an integer")
    label = Parameter("label", required=True, help="a required text")

    @step
    def start(self):
        self.echo = f"{self.label}:{self.count}"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParamsFlow()
