"""Parameters whose values may come from METAFLOW_RUN_<NAME> / STEPWELL_RUN_<NAME>."""

from stepwell import FlowSpec, Parameter, step


class EnvParamFlow(FlowSpec):
    alpha = Parameter("alpha", type=float, default=0.5)
    learning_rate = Parameter("learning-rate", type=int, default=1)

    @step
    def start(self):
        self.seen = (self.alpha, self.learning_rate)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EnvParamFlow()
