"""A step whose card shows progress while it runs (refresh), then its final state."""

import time

from stepwell import FlowSpec, card, current, step
from stepwell.cards import ProgressBar


class LiveCardFlow(FlowSpec):
    @card(refresh_interval=0.1)
    @step
    def start(self):
        bar = ProgressBar(max=5, label="work")
        current.card.append(bar)
        for i in range(1, 6):
            bar.update(i)
            current.card.refresh()
            time.sleep(0.4)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LiveCardFlow()
