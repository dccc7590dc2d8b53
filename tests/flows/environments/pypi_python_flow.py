from stepwell import FlowSpec, pypi, step


class MissingPythonFlow(FlowSpec):
    @pypi(python="3.99", packages={"tomli-w": "1.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingPythonFlow()
