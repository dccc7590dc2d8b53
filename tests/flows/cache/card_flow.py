"""@cache with @card: a reused task shows the cards of the task it reuses."""

import os

from stepwell import FlowSpec, cache, card, current, step
from stepwell.cards import Markdown


class CardCacheFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.report)

    @cache
    @card
    @step
    def report(self):
        with open(os.environ["CACHE_TRACE"], "a") as out:
            out.write("report\n")
        current.card.append(Markdown("# cached report"))
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardCacheFlow()
