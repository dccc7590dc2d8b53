"""A card with a Vega-Lite bar chart."""

from stepwell import FlowSpec, card, current, step
from stepwell.cards import VegaChart


class VegaFlow(FlowSpec):
    @card(type="blank")
    @step
    def start(self):
        current.card.append(
            VegaChart(
                {
                    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                    "title": "Counts",
                    "data": {"values": [{"k": "a", "n": 3}, {"k": "b", "n": 5}]},
                    "mark": "bar",
                    "encoding": {
                        "x": {"field": "k", "type": "nominal"},
                        "y": {"field": "n", "type": "quantitative"},
                    },
                }
            )
        )
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    VegaFlow()
