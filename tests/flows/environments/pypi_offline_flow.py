"""@pypi_base for every step: a package from a local wheelhouse the test builds itself."""

from stepwell import FlowSpec, pypi_base, step


@pypi_base(packages={"swtiny": "0.1.0"})
class OfflineFlow(FlowSpec):
    @step
    def start(self):
        import swtiny

        self.answer = swtiny.ANSWER
        self.next(self.end)

    @step
    def end(self):
        import swtiny

        self.again = swtiny.ANSWER


if __name__ == "__main__":
    OfflineFlow()
