"""foreach + join + a retried failure, on Ray: where each task ran is recorded."""

import os
import socket

from stepwell import FlowSpec, Parameter, current, retry, step


class RayFanout(FlowSpec):
    width = Parameter("width", default=6, type=int)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @retry(times=2, minutes_between_retries=0)
    @step
    def square(self):
        print(f"squaring {self.input} (attempt {current.retry_count})")
        if self.input == 2 and current.retry_count == 0:
            raise RuntimeError("a flaky failure, retried")
        self.item = self.input
        self.value = self.input**2
        self.where = {"cwd": os.getcwd(), "pid": os.getpid(), "host": socket.gethostname()}
        self.attempt = current.retry_count
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.places = [i.where for i in inputs]
        self.attempts = {i.item: i.attempt for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        print("total", sum(self.values))


if __name__ == "__main__":
    RayFanout()
