"""A flow whose artifacts are blobs (and one inline value), a foreach and a card: for verify.

``--seed`` changes the content of every blob, so two runs can hold different blobs.
"""

from stepwell import FlowSpec, Parameter, card, step


class VerifyMeFlow(FlowSpec):
    seed = Parameter("seed", default=1, help="changes every stored value")

    @card
    @step
    def start(self):
        self.big = bytes([self.seed % 256]) * 200_000  # a blob
        self.shared = b"shared by every run" * 1000  # the same blob in every run
        self.small = self.seed  # inline in the metadata: no blob
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.part = bytes([self.input]) * 50_000 + bytes([self.seed % 256])
        self.next(self.join)

    @step
    def join(self, inputs):
        self.parts = sorted(len(i.part) for i in inputs)
        self.big = inputs[0].big
        self.next(self.end)

    @step
    def end(self):
        print("big", len(self.big))


if __name__ == "__main__":
    VerifyMeFlow()
