"""Step names that do not map one-to-one to Kubernetes names."""

from stepwell import FlowSpec, step


class NamesFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.data_)

    @step
    def data_(self):
        self.next(self.a_step_with_a_rather_long_name_that_goes_on_and_on)

    @step
    def a_step_with_a_rather_long_name_that_goes_on_and_on(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NamesFlow()
