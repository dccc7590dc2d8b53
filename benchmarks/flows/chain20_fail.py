"""Benchmark flow: a chain of 20 steps whose last step fails while FAIL_LAST is set."""

import os

from stepwell import FlowSpec, step


class Chain20FailFlow(FlowSpec):
    @step
    def start(self):
        self.n = 0
        self.next(self.s1)

    @step
    def s1(self):
        self.n += 1
        self.next(self.s2)

    @step
    def s2(self):
        self.n += 1
        self.next(self.s3)

    @step
    def s3(self):
        self.n += 1
        self.next(self.s4)

    @step
    def s4(self):
        self.n += 1
        self.next(self.s5)

    @step
    def s5(self):
        self.n += 1
        self.next(self.s6)

    @step
    def s6(self):
        self.n += 1
        self.next(self.s7)

    @step
    def s7(self):
        self.n += 1
        self.next(self.s8)

    @step
    def s8(self):
        self.n += 1
        self.next(self.s9)

    @step
    def s9(self):
        self.n += 1
        self.next(self.s10)

    @step
    def s10(self):
        self.n += 1
        self.next(self.s11)

    @step
    def s11(self):
        self.n += 1
        self.next(self.s12)

    @step
    def s12(self):
        self.n += 1
        self.next(self.s13)

    @step
    def s13(self):
        self.n += 1
        self.next(self.s14)

    @step
    def s14(self):
        self.n += 1
        self.next(self.s15)

    @step
    def s15(self):
        self.n += 1
        self.next(self.s16)

    @step
    def s16(self):
        self.n += 1
        self.next(self.s17)

    @step
    def s17(self):
        self.n += 1
        self.next(self.s18)

    @step
    def s18(self):
        self.n += 1
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("FAIL_LAST"):
            raise RuntimeError("the last step fails on purpose")


if __name__ == "__main__":
    Chain20FailFlow()
