"""A @project flow whose step looks up the latest ProjectFlow run of its own branch."""

from stepwell import Flow, FlowSpec, current, project, step


@project(name="fraud_model")
class ProjectPeekFlow(FlowSpec):
    @step
    def start(self):
        latest = Flow("ProjectFlow").latest_run
        self.latest_run = latest.id if latest is not None else None
        mine = list(Flow("ProjectFlow").runs(f"project_branch:{current.branch_name}"))
        self.seen_run = mine[0].id if mine else None
        self.namespace = current.namespace
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectPeekFlow()
