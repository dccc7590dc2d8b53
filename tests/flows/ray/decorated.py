"""@resources, @environment, @secrets and a @parallel gang on Ray; a flaky step to resume."""

import os
from pathlib import Path

from stepwell import FlowSpec, Parameter, current, environment, parallel, resources, secrets, step


class RayDecorated(FlowSpec):
    fail_flag = Parameter("fail_flag", default="")

    @resources(cpu=1, memory=256)
    @environment(vars={"GREETING": "hello from the flow"})
    @secrets(sources=["env:RAY_TEST_TOKEN"])
    @step
    def start(self):
        self.greeting = os.environ["GREETING"]
        self.token_seen = os.environ.get("RAY_TEST_TOKEN") == "s3cr3t-v4lue-42"
        print("token is", os.environ.get("RAY_TEST_TOKEN"))
        self.next(self.gang, num_parallel=2)

    @parallel
    @step
    def gang(self):
        self.node = (
            current.parallel.node_index,
            current.parallel.num_nodes,
            current.parallel.main_ip,
        )
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.nodes = sorted(i.node for i in inputs)
        self.next(self.flaky)

    @step
    def flaky(self):
        if self.fail_flag and Path(self.fail_flag).exists():
            raise RuntimeError("failing until the flag file is removed")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayDecorated()
