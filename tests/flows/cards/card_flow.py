"""A flow whose middle step has two cards: the default report and a blank one with an id.

Used by the card tests (unit: through ``task_cards`` directly; e2e once the worker wires cards).
"""

from stepwell import FlowSpec, Parameter, card, current, step
from stepwell.cards import Markdown, ProgressBar


class CardFlow(FlowSpec):
    """Start, a step with cards, end."""

    alpha = Parameter("alpha", default=3)

    @step
    def start(self):
        self.rows = [1, 2, 3]
        self.next(self.report)

    @card
    @card(type="blank", id="extra")
    @step
    def report(self):
        bar = ProgressBar(max=2, label="progress")
        current.card.append(bar)
        bar.update(2)
        current.card["extra"].append(Markdown("# Extra <b>card</b>"))
        self.total = sum(self.rows) * self.alpha
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardFlow()
