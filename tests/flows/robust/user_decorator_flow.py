"""A user-defined step decorator: runs around the step, reads and sets artifacts."""

from stepwell import FlowSpec, current, step, user_step_decorator


@user_step_decorator
def audited(step_name, flow, inputs=None, attributes=None):
    flow.audit_before = f"{attributes.get('label', 'none')}:{step_name}:{current.task_id}"
    try:
        yield
    except ZeroDivisionError:
        flow.audit_error = "division"
        raise
    flow.audit_after = flow.value * 10


class UserDecoratorFlow(FlowSpec):
    @audited(label="alpha")
    @step
    def start(self):
        self.value = 4
        self.next(self.end)

    @audited
    @step
    def end(self):
        pass


if __name__ == "__main__":
    UserDecoratorFlow()
