from stepwell import FlowSpec, current, project, step, trigger


@project(name="fraud")
@trigger(event="fraud_go")
class FraudFlow(FlowSpec):
    @step
    def start(self):
        self.branch = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FraudFlow()
