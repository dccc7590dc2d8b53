"""IncludeFile: the file's contents become an artifact of the run."""

from stepwell import FlowSpec, IncludeFile, step


class IncludeFileFlow(FlowSpec):
    table = IncludeFile("table", required=True, help="a CSV file")
    blob = IncludeFile("blob", is_text=False, help="any file, as bytes")

    @step
    def start(self):
        self.rows = len(self.table.strip().splitlines())
        self.blob_size = len(self.blob) if self.blob is not None else None
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    IncludeFileFlow()
