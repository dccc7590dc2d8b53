"""Decorators an Airflow DAG carries: @retry, @timeout, @resources, @kubernetes,
@environment, a Config setting one of them, and parameters of every type (the compiler's tests).
"""

from stepwell import (
    Config,
    FlowSpec,
    JSONType,
    Parameter,
    environment,
    kubernetes,
    resources,
    retry,
    step,
    timeout,
)


class AirflowDecoratedFlow(FlowSpec):
    """Decorated steps; started by hand (a required parameter has no default)."""

    alpha = Parameter("alpha", default=0.5, help="learning rate")
    rounds = Parameter("rounds", default=3)
    name = Parameter("name", required=True, help="who runs it")
    verbose = Parameter("verbose", default=False)
    spec = Parameter("spec", type=JSONType, default='{"a": [1, 2]}')
    note = Parameter("note", help="optional text")
    settings = Config("settings", default_value={"end_retries": 4})

    @retry
    @step
    def start(self):
        self.next(self.train)

    @retry(times=1, minutes_between_retries=0.5)
    @timeout(minutes=5)
    @resources(cpu=2, memory=8000, gpu=1)
    @environment(vars={"MODE": "fast"})
    @step
    def train(self):
        self.next(self.end)

    @retry(times=settings.end_retries, minutes_between_retries=1)
    @kubernetes(image="registry.example/special:1", cpu=4, memory=2048)
    @step
    def end(self):
        pass


if __name__ == "__main__":
    AirflowDecoratedFlow()
