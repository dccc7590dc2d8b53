"""Deployed on a schedule: records what fired it and which code version ran."""

from stepwell import FlowSpec, current, schedule, step

CODE_VERSION = 1


@schedule(cron="*/5 * * * *")
class NightlyFlow(FlowSpec):
    @step
    def start(self):
        event = current.trigger.event
        self.kind, self.slot = event.type, event.id
        self.code_version = CODE_VERSION
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NightlyFlow()
