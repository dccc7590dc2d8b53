"""One foreach branch fails once and waits before its retry; the others go on meanwhile."""

import time

from stepwell import FlowSpec, current, retry, step


class RetryDelayFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2, 3]
        self.next(self.work, foreach="items")

    @retry(times=1, minutes_between_retries=0.03)  # 1.8 s
    @step
    def work(self):
        if self.input == 0 and current.retry_count == 0:
            raise TimeoutError("flaky upstream")
        time.sleep(0.1)
        self.done_at = time.time()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.done = {inp.index: inp.done_at for inp in inputs}
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryDelayFlow()
