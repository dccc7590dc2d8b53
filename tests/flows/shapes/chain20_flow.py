"""A 20-step linear chain: each of the 18 middle steps adds 1 to the counter.

Expected: counter=18, visited=20 (every step appends its name).
"""

from stepwell import FlowSpec, step

EXPECTED = {"counter": 18, "visited": 20}


class Chain20Flow(FlowSpec):
    """Twenty steps in a row."""

    @step
    def start(self):
        self.counter = 0
        self.path = ["start"]
        self.next(self.step_01)

    @step
    def step_01(self):
        self.counter += 1
        self.path = [*self.path, "step_01"]
        self.next(self.step_02)

    @step
    def step_02(self):
        self.counter += 1
        self.path = [*self.path, "step_02"]
        self.next(self.step_03)

    @step
    def step_03(self):
        self.counter += 1
        self.path = [*self.path, "step_03"]
        self.next(self.step_04)

    @step
    def step_04(self):
        self.counter += 1
        self.path = [*self.path, "step_04"]
        self.next(self.step_05)

    @step
    def step_05(self):
        self.counter += 1
        self.path = [*self.path, "step_05"]
        self.next(self.step_06)

    @step
    def step_06(self):
        self.counter += 1
        self.path = [*self.path, "step_06"]
        self.next(self.step_07)

    @step
    def step_07(self):
        self.counter += 1
        self.path = [*self.path, "step_07"]
        self.next(self.step_08)

    @step
    def step_08(self):
        self.counter += 1
        self.path = [*self.path, "step_08"]
        self.next(self.step_09)

    @step
    def step_09(self):
        self.counter += 1
        self.path = [*self.path, "step_09"]
        self.next(self.step_10)

    @step
    def step_10(self):
        self.counter += 1
        self.path = [*self.path, "step_10"]
        self.next(self.step_11)

    @step
    def step_11(self):
        self.counter += 1
        self.path = [*self.path, "step_11"]
        self.next(self.step_12)

    @step
    def step_12(self):
        self.counter += 1
        self.path = [*self.path, "step_12"]
        self.next(self.step_13)

    @step
    def step_13(self):
        self.counter += 1
        self.path = [*self.path, "step_13"]
        self.next(self.step_14)

    @step
    def step_14(self):
        self.counter += 1
        self.path = [*self.path, "step_14"]
        self.next(self.step_15)

    @step
    def step_15(self):
        self.counter += 1
        self.path = [*self.path, "step_15"]
        self.next(self.step_16)

    @step
    def step_16(self):
        self.counter += 1
        self.path = [*self.path, "step_16"]
        self.next(self.step_17)

    @step
    def step_17(self):
        self.counter += 1
        self.path = [*self.path, "step_17"]
        self.next(self.step_18)

    @step
    def step_18(self):
        self.counter += 1
        self.path = [*self.path, "step_18"]
        self.next(self.end)

    @step
    def end(self):
        self.path = [*self.path, "end"]
        self.visited = len(self.path)


if __name__ == "__main__":
    Chain20Flow()
