"""Keyword arguments of the Runner as command-line words of ``python flow.py``.

The flow's own click command line is the single source of truth: each keyword is
matched against the options it declares (top-level options of the group, or
those of ``run`` / ``resume`` / ``spin`` with the flow's parameters), so an
option added to the command line is a Runner keyword at once, and a keyword that
matches nothing fails before any process starts, listing what is valid.

Naming, as Metaflow's Runner has it: ``max_workers=`` is ``--max-workers``,
``tags=[...]`` is ``--tag`` repeated, ``with_=`` or ``decospecs=`` is ``--with``,
``config=[(name, file)]`` is ``--config NAME FILE``, ``config_value=[(name,
dict)]`` is ``--config-value NAME JSON``, ``pylint=False`` is ``--no-pylint``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import click

from stepwell.exceptions import StepwellError

#: Keywords the Runner sets itself; a caller passing one gets an error saying so.
MANAGED = frozenset({"run_id_file", "task_pathspec_file", "runner_attribute_file", "help"})
#: Python-friendly spellings of option names that are keywords or differ in Metaflow.
ALIASES = {"with_": "with", "decospecs": "with"}


class RunnerOptionError(StepwellError, TypeError):
    """A keyword argument of the Runner that the flow's command line does not take."""

    headline = "Invalid Runner argument"


def _long_opts(param: click.Parameter) -> list[str]:
    opts = [*param.opts, *getattr(param, "secondary_opts", [])]
    return [o for o in opts if o.startswith("--")]


def _keyword(opt: str) -> str:
    return opt[2:].replace("-", "_")


class CommandOptions:
    """The options of one level of the command line (top level, or one command)."""

    def __init__(self, params: Iterable[click.Parameter], where: str) -> None:
        self.where = where
        self._by_name: dict[str, tuple[click.Option, str]] = {}
        self._shown: set[str] = set()  # one name per option, for error messages
        for param in params:
            if not isinstance(param, click.Option) or param.name in MANAGED:
                continue
            self._shown.add(_display_name(param))
            for opt in _long_opts(param):
                self._by_name.setdefault(_keyword(opt), (param, opt))
            if param.name is not None:
                self._by_name.setdefault(param.name, (param, param.opts[0]))

    def valid(self) -> list[str]:
        names = self._shown - {"with"}
        if "with" in self._shown:
            names |= {"with_", "decospecs"}
        return sorted(names)

    def argv(self, kwargs: Mapping[str, Any]) -> list[str]:
        """The words of ``kwargs``; an unknown keyword raises :class:`RunnerOptionError`."""
        words: list[str] = []
        for name, value in kwargs.items():
            words += self._words(name, value)
        return words

    def _words(self, name: str, value: Any) -> list[str]:
        if name in MANAGED:
            raise RunnerOptionError(
                f"{name}= is set by the Runner itself and cannot be passed {self.where}. "
                "Read the run id from the result instead: result.run.id."
            )
        found = self._by_name.get(ALIASES.get(name, name))
        if found is None:
            valid = self.valid()
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" Did you mean {close[0]}=?" if close else ""
            raise RunnerOptionError(
                f"{name}= is not an option {self.where}.{hint}\n"
                f"Valid keyword arguments: {', '.join(valid)}."
            )
        param, opt = found
        if value is None:
            return []
        if param.is_flag and not param.multiple:
            return _flag_words(param, opt, value)
        if param.nargs == 2:
            return [w for pair in _pairs(name, value) for w in (opt, *pair)]
        if param.multiple:
            items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            return [w for item in items for w in (opt, _text(item))]
        return [opt, _text(value)]


def _display_name(param: click.Option) -> str:
    """``tags`` for ``--tag`` (Metaflow's keyword), else the first long option's name."""
    first = _keyword(_long_opts(param)[0]) if _long_opts(param) else str(param.name)
    return "tags" if first == "tag" else first


def _flag_words(param: click.Option, opt: str, value: Any) -> list[str]:
    """A flag: ``True`` gives the option matched; ``False`` its opposite, if it has one."""
    secondary = [o for o in getattr(param, "secondary_opts", []) if o.startswith("--")]
    primary = [o for o in param.opts if o.startswith("--")]
    if value:
        return [opt]
    opposite = secondary if opt in primary else primary
    if opposite:
        return [opposite[0]]
    if opt == "--pylint":  # Metaflow's pylint=False: a command line with only --no-pylint
        return [o for o in primary if o == "--no-pylint"]
    return []


def _pairs(name: str, value: Any) -> list[tuple[str, str]]:
    """``config=`` / ``config_value=``: a dict, or a list of (name, value) pairs."""
    items = list(value.items()) if isinstance(value, Mapping) else list(value)
    pairs = []
    for item in items:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            raise RunnerOptionError(
                f"{name}= takes (name, value) pairs, e.g. {name}=[('cfg', ...)] or a dict "
                f"{{'cfg': ...}}; got {item!r}."
            )
        pairs.append((str(item[0]), _text(item[1])))
    return pairs


def _text(value: Any) -> str:
    """A value as the command line reads it: JSON for dicts and lists, else ``str``."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)
