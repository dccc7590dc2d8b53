"""A flow whose decorators come from mutators and custom decorators (Metaflow's API)."""

from mydecorators import counted, limits_linter, memo, resilient, seen_env, with_env

from stepwell import Config, FlowSpec, current, resources, step


@limits_linter
@resilient(times=1)
class MutatedFlow(FlowSpec):
    limits = Config("limits", default="limits.json")

    @with_env(value=limits.tag)
    @resources(cpu=64)
    @step
    def start(self):
        self.env_seen = seen_env()
        self.next(self.flaky)

    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("the first attempt fails")
        self.rescued = "never: the fallback runs instead"
        self.next(self.skipped)

    @memo(reuse=True, artifact="expensive")
    @step
    def skipped(self):
        if True:
            raise AssertionError("memo skips this code")
        self.next(self.end)

    @counted(label="c")
    @step
    def end(self):
        raise ValueError("swallowed by post_step")


if __name__ == "__main__":
    MutatedFlow()
