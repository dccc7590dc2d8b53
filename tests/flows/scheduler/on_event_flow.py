"""Deployed with @trigger: the event's 'date' field becomes the 'day' parameter."""

from stepwell import FlowSpec, Parameter, current, step, trigger


@trigger(event={"name": "data_ready", "parameters": {"day": "date"}})
class OnEventFlow(FlowSpec):
    day = Parameter("day", default="none")

    @step
    def start(self):
        self.got = self.day
        event = current.trigger.event
        self.event_name, self.event_id, self.payload = event.name, event.id, event.payload
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    OnEventFlow()
