"""@cache on a @parallel step: refused by lint (cache-with-parallel)."""

from stepwell import FlowSpec, cache, parallel, step


class CacheParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @cache
    @parallel
    @step
    def train(self):  # lint: cache-with-parallel
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CacheParallelFlow()
