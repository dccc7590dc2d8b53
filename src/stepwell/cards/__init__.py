"""Cards: visual reports a step builds while it runs, stored with its task.

``@card`` records the wish; the worker wraps the step in :func:`task_cards`,
which puts a :class:`CardCollector` in ``current.card``, renders every card
when the step ends and stores it; :func:`get_cards` reads cards back.

Rules the modules here keep:

- Every piece of user text is HTML-escaped; components render on the server
  and a card loads nothing from the network (no external JS, CSS or images).
- A card is stored as two content-addressed blobs: its body, and the shared
  assets (the same bytes for every card, hence stored once). Reading
  assembles the self-contained page.
- A card never fails its task unless ``@card(save_errors=False)``.
- Optional libraries (matplotlib, Pillow, altair) are imported only when a
  component converts one of their objects.
- This package imports the client and config only inside reading functions;
  it never imports the runtime.
"""

from stepwell.cards._collector import CardCollector, CardComponents, CardSlot
from stepwell.cards._components import (
    Artifact,
    CardComponent,
    Error,
    JSONViewer,
    Markdown,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
)
from stepwell.cards._image import Image
from stepwell.cards._read import (
    Card,
    card_html,
    card_summaries,
    get_cards,
    list_cards,
    view_card,
)
from stepwell.cards._render import CardRenderError
from stepwell.cards._task import CardSink, live_card_path, task_cards

__all__ = [
    "Artifact",
    "Card",
    "CardCollector",
    "CardComponent",
    "CardComponents",
    "CardRenderError",
    "CardSink",
    "CardSlot",
    "Error",
    "Image",
    "JSONViewer",
    "Markdown",
    "ProgressBar",
    "PythonCode",
    "Table",
    "ValueBox",
    "VegaChart",
    "card_html",
    "card_summaries",
    "get_cards",
    "list_cards",
    "live_card_path",
    "task_cards",
    "view_card",
]
