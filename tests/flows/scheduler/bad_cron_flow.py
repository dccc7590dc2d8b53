from stepwell import FlowSpec, schedule, step


@schedule(cron="61 * * * *")
class BadCronFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BadCronFlow()
