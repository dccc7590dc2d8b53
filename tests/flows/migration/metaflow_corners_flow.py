"""What published Metaflow examples use, with only the import changed."""

from stepwell import (
    Config,
    FlowSpec,
    MissingInMergeArtifactsException,
    Parameter,
    batch,
    conda,
    conda_base,
    current,
    kubernetes,
    profile,
    resources,
    retry,
    step,
)


@conda_base(python="3.11", packages={"numpy": "1.26"})
class MetaflowCornersFlow(FlowSpec):
    """Class constants, current, a Config named config, remote decorators on a local run."""

    THRESHOLD = 0.5
    config = Config("config", default="settings.toml", parser="tomllib.loads")
    verbose = Parameter("verbose", is_flag=True, show_default=True, help="say more")

    @kubernetes(cpu=1, memory=512)
    @conda(packages={"pandas": "2.2"})
    @step
    def start(self):
        self.step_names = [s.name for s in self]
        self.verbose_seen = self.verbose
        self.names = (self.name, self.script_name)
        try:
            self.THRESHOLD = 0.9
        except AttributeError as exc:
            self.reassign_error = str(exc)
        self.current_seen = {
            "is_running_flow": current.is_running_flow,
            "retry_count": current.retry_count,
            "origin_run_id": current.origin_run_id,
            "trigger": current.trigger,
            "tags_is_set": isinstance(current.tags, (set, frozenset)),
            "pathspec": current.pathspec,
        }
        stats: dict = {}
        with profile("work", stats_dict=stats):
            self.items = [1, 2]
        self.profiled = list(stats)
        self.learning_rate = self.config.train.learning_rate
        self.next(self.work, foreach="items")

    @retry(times=1)
    @resources(cpu=4096, memory=64)
    @step
    def work(self):
        if current.retry_count == 0 and self.input == 2:
            raise RuntimeError("first attempt fails")
        self.doubled = self.input * 2
        self.next(self.join)

    @batch(memory=256)
    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        try:
            self.merge_artifacts(inputs, include=["no_such_artifact"])
        except MissingInMergeArtifactsException as exc:
            self.merge_error = type(exc).__name__
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MetaflowCornersFlow()
