"""A flow made from BaseFlow: it inherits the mutator, the project and the helpers."""

from base_flow import BaseFlow
from mydecorators import seen_env, with_env

from stepwell import current, resources, step


class ComposedFlow(BaseFlow):
    @resources(cpu=8)
    @with_env(value="composed")
    @step
    def start(self):
        self.project_seen = (current.project_name, current.branch_name)
        self.env_seen = seen_env()
        self.value = self.doubled(21)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ComposedFlow()
