"""A foreach, a static branch, a switch and a retried task: the Airflow DAG test's flow.

Expected: squares=[1, 4, 9] (joined from the foreach), total=14, left=15, right=28,
route="big" (the switch takes big; small never runs), the second split of square
fails on its first attempt and succeeds on the second, label is the run's parameter.
"""

from stepwell import FlowSpec, Parameter, current, retry, step


class AirflowShapesFlow(FlowSpec):
    """Every shape an Airflow DAG of a flow has."""

    count = Parameter("count", default=3, help="How many items the foreach has.")
    label = Parameter("label", default="plain", help="Any text; kept as given.")

    @step
    def start(self):
        self.items = list(range(1, self.count + 1))
        self.next(self.square, foreach="items")

    @retry(times=2, minutes_between_retries=0)
    @step
    def square(self):
        """Fails once, on the first attempt of the second split."""
        if self.index == 1 and current.retry_count == 0:
            raise RuntimeError("a transient failure")
        self.value = self.input**2
        self.attempt = current.retry_count
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.squares = [i.value for i in inputs]
        self.total = sum(self.squares)
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = self.total + 1
        self.next(self.meet)

    @step
    def right(self):
        self.side = self.total * 2
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.left_side = inputs.left.side
        self.right_side = inputs.right.side
        self.total = inputs.left.total
        self.route = "big" if self.total > 10 else "small"
        self.next({"big": self.big, "small": self.small}, condition="route")

    @step
    def big(self):
        self.size = "big"
        self.next(self.end)

    @step
    def small(self):
        self.size = "small"
        self.next(self.end)

    @step
    def end(self):
        self.done = f"{self.size}:{self.label}"


if __name__ == "__main__":
    AirflowShapesFlow()
