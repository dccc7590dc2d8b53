"""A @project flow whose step looks up the latest ProjectFlow run in its own namespace."""

from stepwell import Flow, FlowSpec, current, project, step


@project(name="fraud_model")
class ProjectPeekFlow(FlowSpec):
    @step
    def start(self):
        latest = Flow("ProjectFlow").latest_run
        self.seen_run = latest.id if latest is not None else None
        self.namespace = current.namespace
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectPeekFlow()
