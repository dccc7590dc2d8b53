"""A @project flow that records what current says about its project."""

from stepwell import FlowSpec, current, project, step


@project(name="semantics")
class ProjectNamesFlow(FlowSpec):
    @step
    def start(self):
        self.seen = {
            "project_name": current.project_name,
            "branch_name": current.branch_name,
            "is_production": current.is_production,
            "project_flow_name": current.project_flow_name,
        }
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectNamesFlow()
