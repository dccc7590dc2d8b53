"""Records what ``current`` says inside a step."""

from stepwell import FlowSpec, Parameter, current, step


class CurrentFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)

    @step
    def start(self):
        self.seen = {
            "flow_name": current.flow_name,
            "run_id": current.run_id,
            "step_name": current.step_name,
            "task_id": current.task_id,
            "retry_count": current.retry_count,
            "origin_run_id": current.origin_run_id,
            "pathspec": current.pathspec,
            "namespace": current.namespace,
            "username": current.username,
            "tags": sorted(current.tags),
            "parameter_names": list(current.parameter_names),
            "is_running_flow": current.is_running_flow,
        }
        self.next(self.end)

    @step
    def end(self):
        self.end_step = current.step_name


if __name__ == "__main__":
    CurrentFlow()
