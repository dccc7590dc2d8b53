"""@trigger(events=[...]): runs once both events have come."""

from stepwell import FlowSpec, current, step, trigger


@trigger(events=["features_ready", "labels_ready"])
class BothEventsFlow(FlowSpec):
    @step
    def start(self):
        self.names = sorted(e.name for e in current.trigger.events)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BothEventsFlow()
