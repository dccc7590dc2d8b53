"""current.card used as Metaflow allows, on steps with and without @card."""

from stepwell import FlowSpec, card, current, step
from stepwell.cards import Markdown


class CardCallsFlow(FlowSpec):
    @card
    @card(type="blank", id="plots")
    @step
    def start(self):
        current.card.append(Markdown("# default card"), id="title")
        current.card.append("not a component")  # warned about, skipped
        current.card["nope"].append(Markdown("no such card"))  # warned about, detached
        current.card["plots"] = [Markdown("plot a")]
        current.card["plots"].extend([Markdown("plot b")])
        current.card.refresh(force=True)
        self.next(self.plain)

    @step
    def plain(self):
        current.card.append(Markdown("this step has no @card"))
        current.card.clear()
        current.card.refresh()
        self.ok = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardCallsFlow()
