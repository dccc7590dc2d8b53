"""@project: deployments per branch; downstream of another flow of the same project."""

from stepwell import FlowSpec, project, step, trigger_on_finish


@project(name="fraud")
@trigger_on_finish(flow="ScoringFlow")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectFlow()
