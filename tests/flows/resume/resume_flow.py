"""Foreach, nested foreach, a switch loop and a final step, each able to fail on demand.

FAIL_AT names where to fail: "inner:<outer>:<inner>" (one nested-foreach task),
"loop:<count>" (one visit of the loop), "end". Every task appends its place to
the file named by RESUME_TRACE, so a test can tell what really ran.
"""

import os

from stepwell import FlowSpec, Parameter, current, step


def trace(place):
    with open(os.environ["RESUME_TRACE"], "a") as fh:
        fh.write(place + "\n")


def fail_if(place):
    if os.environ.get("FAIL_AT") == place:
        raise RuntimeError(f"failing at {place} on purpose")


class ResumeFlow(FlowSpec):
    scale = Parameter("scale", default=1, help="multiplies every value")

    @step
    def start(self):
        trace("start")
        self.rows = [1, 2]
        self.next(self.outer, foreach="rows")

    @step
    def outer(self):
        trace(f"outer:{self.index}")
        self.row = self.input
        self.cols = [10, 20, 30]
        self.next(self.inner, foreach="cols")

    @step
    def inner(self):
        place = f"inner:{self.foreach_stack()[0][0]}:{self.index}"
        trace(place)
        fail_if(place)
        self.cell = self.row * self.input * self.scale
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        trace("join_inner")
        self.row_total = sum(inp.cell for inp in inputs)
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        trace("join_outer")
        self.total = sum(inp.row_total for inp in inputs)
        self.count = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        place = f"loop:{self.count}"
        trace(place)
        fail_if(place)
        self.again = "yes" if self.count < 3 else "no"
        self.next({"yes": self.loop, "no": self.end}, condition="again")

    @step
    def end(self):
        trace("end")
        fail_if("end")
        self.result = (self.total, self.count)
        self.origin = current.origin_run_id


if __name__ == "__main__":
    ResumeFlow()
