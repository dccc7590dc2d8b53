"""@project: what current says about the project and the branch."""

from stepwell import FlowSpec, current, project, step


@project(name="fraud_model")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.seen = {
            name: getattr(current, name)
            for name in ("project_name", "branch_name", "is_user_branch", "is_production",
                         "project_flow_name")
        }  # fmt: skip
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectFlow()
