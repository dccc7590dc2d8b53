"""Card components: each renders itself to an HTML fragment with all user text escaped.

Names and arguments follow Metaflow's ``metaflow.cards`` components. A
component is mutable: ``update(...)`` changes what the next rendering (a
``current.card.refresh()`` or the final card) shows.
"""

from __future__ import annotations

import inspect
import json
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from stepwell.cards._html import esc, json_for_script
from stepwell.cards._markdown import render_markdown
from stepwell.cards._preview import preview_html


class CardComponent:
    """Base of every component: ``render()`` returns an HTML fragment."""

    #: Optional id, so a live card can find a component again.
    id: str | None = None

    def render(self) -> str:
        raise NotImplementedError

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{type(self).__name__} cannot be updated; replace it instead.")

    def _wrap(self, inner: str) -> str:
        return f'<div class="sw-component sw-{type(self).__name__.lower()}">{inner}</div>'


def render_value(value: Any) -> str:
    """A table cell or value: a component renders itself; anything else is escaped text."""
    if isinstance(value, CardComponent):
        return value.render()
    return esc(value)


class Markdown(CardComponent):
    """Text in (a safe subset of) Markdown: ``Markdown("# Results\\n**12** rows")``."""

    def __init__(self, text: str = "") -> None:
        self.text = str(text)

    def update(self, text: str | None = None) -> None:
        self.text = "" if text is None else str(text)

    def render(self) -> str:
        return self._wrap(render_markdown(self.text))


class Table(CardComponent):
    """Rows of values (or components): ``Table([[1, "a"], [2, "b"]], headers=["n", "s"])``."""

    MAX_ROWS = 100

    def __init__(
        self, data: Sequence[Sequence[Any]] | None = None, headers: Sequence[Any] | None = None
    ) -> None:
        self.data = [list(row) for row in data or []]
        self.headers = list(headers or [])
        self.note = ""

    @classmethod
    def from_dataframe(cls, dataframe: Any, truncate: bool = True) -> Table:
        """A table of a pandas DataFrame; with ``truncate`` only its first 100 rows."""
        frame = dataframe.head(cls.MAX_ROWS) if truncate else dataframe
        rows = list(frame.itertuples(index=False, name=None))  # each column keeps its type
        table = cls(rows, headers=[str(c) for c in frame.columns])
        if truncate and len(dataframe) > cls.MAX_ROWS:
            table.note = f"First {cls.MAX_ROWS} of {len(dataframe)} rows."
        return table

    def update(
        self, data: Sequence[Sequence[Any]] | None = None, headers: Sequence[Any] | None = None
    ) -> None:
        if data is not None:
            self.data = [list(row) for row in data]
        if headers is not None:
            self.headers = list(headers)

    def render(self) -> str:
        head = "".join(f"<th>{render_value(h)}</th>" for h in self.headers)
        rows = "".join(
            "<tr>" + "".join(f"<td>{render_value(cell)}</td>" for cell in row) + "</tr>"
            for row in self.data
        )
        note = f'<p class="sw-muted">{esc(self.note)}</p>' if self.note else ""
        thead = f"<thead><tr>{head}</tr></thead>" if head else ""
        return self._wrap(f'<table class="sw-table">{thead}<tbody>{rows}</tbody></table>{note}')


class ProgressBar(CardComponent):
    """A progress bar for live cards: ``bar = ProgressBar(max=10); bar.update(3)``."""

    def __init__(
        self, max: float = 100, label: str | None = None, value: float = 0, unit: str | None = None
    ) -> None:
        self.max = max
        self.label = label
        self.value = value
        self.unit = unit

    def update(self, new_value: float) -> None:
        self.value = new_value

    def render(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        label = f"<span>{esc(self.label)}</span>" if self.label else ""
        text = f"{esc(self.value)} / {esc(self.max)}{esc(unit)}"
        bar = f'<progress max="{esc(float(self.max))}" value="{esc(float(self.value))}"></progress>'
        return self._wrap(f'<div class="sw-progress">{label}{bar}<span>{text}</span></div>')


class ValueBox(CardComponent):
    """One headline number: ``ValueBox("Accuracy", 0.93)``."""

    def __init__(self, title: str, value: Any) -> None:
        self.title = title
        self.value = value

    def update(self, value: Any = None, title: str | None = None) -> None:
        self.value = value
        if title is not None:
            self.title = title

    def render(self) -> str:
        return self._wrap(
            f'<div class="sw-muted">{esc(self.title)}</div>'
            f'<div class="sw-value">{render_value(self.value)}</div>'
        )


class Artifact(CardComponent):
    """A preview of any value: type, shape/dtype of arrays, the head of a DataFrame."""

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self.artifact = artifact
        self.name = name
        self.compressed = compressed

    def update(self, artifact: Any) -> None:
        self.artifact = artifact

    def render(self) -> str:
        title = f"<strong>{esc(self.name)}</strong> " if self.name else ""
        return self._wrap(
            title + preview_html(self.artifact, limit=200 if self.compressed else 5000)
        )


class JSONViewer(CardComponent):
    """A JSON-able value, pretty-printed: ``JSONViewer({"lr": 0.1})``."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def update(self, data: Any) -> None:
        self.data = data

    def render(self) -> str:
        text = json.dumps(self.data, indent=2, sort_keys=True, default=repr)
        return self._wrap(f'<pre class="sw-json">{esc(text)}</pre>')


class PythonCode(CardComponent):
    """Source code: a string, or a function/class whose source is shown."""

    def __init__(
        self,
        code_or_function: str | Callable[..., Any] | None = None,
        *,
        code_string: str | None = None,
        data: Any = None,
    ) -> None:
        target = code_or_function if code_or_function is not None else (code_string or data)
        if isinstance(target, str) or target is None:
            self.code = target or ""
        else:
            try:
                self.code = inspect.getsource(target)
            except (OSError, TypeError) as exc:
                raise TypeError(f"PythonCode cannot read the source of {target!r}: {exc}") from None

    def render(self) -> str:
        return self._wrap(
            f'<pre class="sw-code"><code class="language-python">{esc(self.code)}</code></pre>'
        )


class Error(CardComponent):
    """An exception (with its traceback) or an error message, shown in red."""

    def __init__(self, exception_or_text: BaseException | str, title: str | None = None) -> None:
        if isinstance(exception_or_text, BaseException):
            exc = exception_or_text
            self.title = title or type(exc).__name__
            self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            self.title = title or "Error"
            self.text = str(exception_or_text)

    def render(self) -> str:
        return self._wrap(f'<h3>{esc(self.title)}</h3><pre class="sw-code">{esc(self.text)}</pre>')


class VegaChart(CardComponent):
    """A Vega-Lite chart spec (a dict); ``VegaChart.from_altair_chart(chart)`` with altair.

    The spec is embedded as JSON and drawn as SVG by vega-embed, which the card
    carries inline (Vega, Vega-Lite and vega-embed from the npm registry, stored
    once as a shared asset): no network access is needed.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        if not isinstance(spec, dict):
            raise TypeError(f"VegaChart needs a dict spec, got {type(spec).__name__}.")
        self.spec = spec

    @classmethod
    def from_altair_chart(cls, chart: Any) -> VegaChart:
        try:
            import altair  # noqa: F401
        except ImportError:
            raise ImportError(
                "VegaChart.from_altair_chart needs the 'altair' package. "
                "Install it with: pip install altair"
            ) from None
        return cls(chart.to_dict())

    def update(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def render(self) -> str:
        title = self.spec.get("title") or self.spec.get("description") or "Vega-Lite chart"
        return self._wrap(
            f'<div class="sw-vega" role="img" aria-label="{esc(title)}"></div>'
            '<script type="application/json" class="sw-vega-spec">'
            f"{json_for_script(self.spec)}</script>"
            "<script>(function (spec) { var target = spec.previousElementSibling;"
            " if (window.vegaEmbed) vegaEmbed(target, JSON.parse(spec.textContent),"
            ' {renderer: "svg", actions: false});'
            " })(document.currentScript.previousElementSibling);</script>"
        )
