from stepwell import FlowSpec, conda, step


class CondaOnlyFlow(FlowSpec):
    @conda(packages={"stepwell-conda-only-package": "1.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CondaOnlyFlow()
