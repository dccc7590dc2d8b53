from stepwell import FlowSpec, pypi, step


class BadNameFlow(FlowSpec):
    @pypi(packages={"stepwell-no-such-package-anywhere": "1.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadNameFlow()
