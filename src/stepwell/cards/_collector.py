"""``current.card``: where a step adds components to its cards."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stepwell.cards._components import CardComponent

#: Card types that show the components a step adds.
EDITABLE_TYPES = ("default", "blank")


@dataclass
class CardSlot:
    """One ``@card`` of the step: its settings and the components added so far."""

    type: str
    id: str | None
    index: int
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 45
    refresh_interval: float = 5
    save_errors: bool = True
    components: list[CardComponent] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``id`` when set, else ``type:index`` (also the metadata entry's suffix)."""
        return self.id if self.id is not None else f"{self.type}:{self.index}"

    @property
    def record_name(self) -> str:
        return f"card:{self.type}:{self.index}"


def _valid(component: Any) -> bool:
    """Whether ``component`` can go on a card; if not, warn (as Metaflow does) and skip it."""
    if isinstance(component, CardComponent):
        return True
    warnings.warn(
        f"current.card takes card components (stepwell.cards.Markdown, Table, ...); got "
        f"{type(component).__name__}, which is not added. Wrap text in Markdown(...).",
        stacklevel=3,
    )
    return False


def _add(slot: CardSlot, component: Any, component_id: str | None = None) -> None:
    if _valid(component):
        if component_id is not None:
            component.id = component_id
        slot.components.append(component)


class CardComponents:
    """The components of one card: ``current.card["summary"].append(Markdown("hi"))``."""

    def __init__(self, slot: CardSlot, refresh: Callable[[], None]) -> None:
        self._slot = slot
        self._refresh = refresh

    def append(self, component: CardComponent, id: str | None = None) -> None:
        _add(self._slot, component, id)

    def extend(self, components: Iterable[CardComponent]) -> None:
        for component in components:
            _add(self._slot, component)

    def clear(self) -> None:
        self._slot.components.clear()

    def refresh(self, data: Any = None, force: bool = False) -> None:
        self._refresh()

    def __iter__(self) -> Iterator[CardComponent]:
        return iter(self._slot.components)

    def __len__(self) -> int:
        return len(self._slot.components)

    def __getitem__(self, index: int) -> CardComponent:
        return self._slot.components[index]


class CardCollector:
    """What ``current.card`` is inside a step with ``@card`` decorators.

    ``append``/``extend``/``clear`` act on the *default editable card*: the
    first ``@card`` without an ``id`` whose type shows components (or the only
    card); ``current.card["id"]`` addresses a card by its ``id``.

    Example:
        >>> current.card.append(Markdown("# Training"))  # doctest: +SKIP
        >>> current.card["plots"].append(Image(png_bytes))  # doctest: +SKIP
        >>> current.card.refresh()  # doctest: +SKIP
    """

    def __init__(self, slots: list[CardSlot], refresh: Callable[[], None] | None = None) -> None:
        self._slots = slots
        self._refresh = refresh or (lambda: None)

    def _default(self) -> CardSlot | None:
        unnamed = [s for s in self._slots if s.id is None and s.type in EDITABLE_TYPES]
        if unnamed:
            return unnamed[0]
        return self._slots[0] if len(self._slots) == 1 else None

    def _target(self) -> CardSlot | None:
        slot = self._default()
        if slot is None:
            ids = ", ".join(repr(s.id) for s in self._slots if s.id) or "none"
            warnings.warn(
                "current.card has no default card (every @card has an id); the component "
                f"is not shown. Use current.card[id] with one of: {ids}.",
                stacklevel=3,
            )
        return slot

    def append(self, component: CardComponent, id: str | None = None) -> None:
        """Add ``component`` (named ``id``, for a live update) to the default card.

        Like Metaflow, a value that is not a card component, or a step whose
        cards have no default, gets a warning and the task goes on.
        """
        slot = self._target()
        if slot is not None:
            _add(slot, component, id)

    def extend(self, components: Iterable[CardComponent]) -> None:
        """Add every component to the default card."""
        for component in components:
            self.append(component)

    def clear(self) -> None:
        """Remove every component from the default card."""
        slot = self._default()
        if slot is not None:
            slot.components.clear()

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Render the step's cards now and publish them as live (intermediate) versions.

        ``data`` and ``force`` are accepted for Metaflow's signature; every call renders.
        """
        self._refresh()

    def __getitem__(self, card_id: str) -> CardComponents | list[CardComponent]:
        """The card ``@card(id=card_id)``; for an unknown id, a warning and a detached list."""
        slot = self._slot(card_id)
        if slot is None:
            return []
        return CardComponents(slot, self._refresh)

    def __setitem__(self, card_id: str, components: list[CardComponent]) -> None:
        """Replace every component of card ``card_id``: ``current.card["plots"] = [...]``."""
        slot = self._slot(card_id)
        if slot is None:
            return
        if not isinstance(components, list):
            warnings.warn(
                f"current.card[{card_id!r}] must be set to a list of card components, got "
                f"{type(components).__name__}; the card is unchanged.",
                stacklevel=2,
            )
            return
        slot.components.clear()
        for component in components:
            _add(slot, component)

    def _slot(self, card_id: str) -> CardSlot | None:
        for slot in self._slots:
            if slot.id == card_id:
                return slot
        ids = ", ".join(repr(s.id) for s in self._slots if s.id) or "none"
        warnings.warn(
            f"current.card[{card_id!r}]: this step has no @card(id={card_id!r}), so what is "
            f"added there is not shown. Card ids: {ids}.",
            stacklevel=3,
        )
        return None

    @property
    def components(self) -> dict[str, list[CardComponent]]:
        """The components of every card, by card label (``id``, or ``type:index``)."""
        return {slot.label: slot.components for slot in self._slots}

    def __repr__(self) -> str:
        return f"<current.card: {', '.join(s.label for s in self._slots)}>"
