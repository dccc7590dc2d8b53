"""Parameters of each type: str, int, float, bool and JSONType, read as artifacts.

Expected (defaults): greeting="hello world", scaled=1.5 (3 * 0.5),
layer_sum=3 (1 + 2), verbose_seen=False, types="str,int,float,bool,dict".
"""

from stepwell import FlowSpec, JSONType, Parameter, step

EXPECTED = {
    "greeting": "hello world",
    "scaled": 1.5,
    "layer_sum": 3,
    "verbose_seen": False,
    "types": "str,int,float,bool,dict",
}


class ParametersFlow(FlowSpec):
    """Reads one parameter of every type."""

    who = Parameter("who", default="world", help="whom to greet")
    count = Parameter("count", default=3, help="a whole number")
    ratio = Parameter("ratio", default=0.5, type=float, help="a fraction")
    verbose = Parameter("verbose", default=False, type=bool, help="print more")
    model = Parameter("model", default='{"layers": [1, 2]}', type=JSONType, help="model spec")

    @step
    def start(self):
        self.greeting = f"hello {self.who}"
        self.scaled = self.count * self.ratio
        self.layer_sum = sum(self.model["layers"])
        self.verbose_seen = self.verbose
        values = (self.who, self.count, self.ratio, self.verbose, self.model)
        self.types = ",".join(type(v).__name__ for v in values)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParametersFlow()
