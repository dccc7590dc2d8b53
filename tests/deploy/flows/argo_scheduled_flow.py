"""@schedule with a cron and a timezone."""

from stepwell import FlowSpec, schedule, step


@schedule(cron="30 2 * * 1-5", timezone="Europe/Berlin")
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
