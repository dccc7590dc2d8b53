"""S3(run=self) inside steps: data kept next to the run's artifacts, found again by key."""

from stepwell import S3, FlowSpec, step


class S3ClientFlow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.url = s3.put("greeting.txt", "hello from the run")
            s3.put_many([(f"parts/{i}", f"{i:02d}" * 50) for i in range(20)])
        self.next(self.end)

    @step
    def end(self):
        with S3(run=self) as s3:
            self.greeting = s3.get("greeting.txt").text
            self.parts = sorted(len(o.blob) for o in s3.get_recursive(["parts"]))


if __name__ == "__main__":
    S3ClientFlow()
