"""Flow inputs, declared as class attributes: ``Parameter``, ``JSONType``, ``IncludeFile``,
``Config``.

They only describe an input here. The runtime resolves values once per run
(command line > default) and stores them as artifacts of the run; a step reads
them as ``self.<attribute>``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from stepwell.exceptions import ParameterError, render_if_uncaught

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
#: Names taken by the run command's own options.
RESERVED_PARAMETER_NAMES = frozenset(
    {
        "tag",
        "tags",
        "namespace",
        "max-workers",
        "max_workers",
        "max-num-splits",
        "max_num_splits",
        "run-id-file",
        "run_id_file",
        "with",
        "executor",
        "quiet",
        "params",
        "config",
        "config-value",
        "origin-run-id",
        "run-id",
        "help",
    }
)


#: Names a Config may take although a Parameter may not: Metaflow passes configs as
#: ``--config NAME PATH``, so a Config named "config" is legal (and common).
CONFIG_ALLOWED_NAMES = frozenset({"config"})

#: Keywords of a command-line option that Metaflow forwards to click; kept in
#: ``Parameter.click_options`` for the flow's command line (``is_flag`` makes a boolean flag).
CLICK_KEYWORDS = frozenset(
    {
        "allow_from_autoenv",
        "callback",
        "confirmation_prompt",
        "count",
        "deprecated",
        "envvar",
        "expose_value",
        "flag_value",
        "hidden",
        "hide_input",
        "is_eager",
        "is_flag",
        "metavar",
        "multiple",
        "nargs",
        "prompt",
        "prompt_required",
        "shell_complete",
        "show_choices",
        "show_envvar",
    }
)


class _JSONTypeClass:
    """Marks a parameter whose command-line value is JSON text (``type=JSONType``)."""

    name = "JSON"

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None

    def __repr__(self) -> str:
        return "JSONType"


JSONType = _JSONTypeClass()


@dataclass(frozen=True)
class ParameterContext:
    """What a callable ``default`` receives, once per run."""

    flow_name: str
    user_name: str
    parameter_name: str


def _type_label(kind: Any) -> str:
    if kind is JSONType:
        return "JSON"
    return getattr(kind, "__name__", repr(kind))


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "no", "n", "off"):
        return False
    raise ValueError("expected true/false")


class Parameter:
    """A run-time input of the flow, given as ``--<name> value`` on the command line.

    Args:
        name: The command-line name (``--name``) and the name shown in the UI.
        default: A value, or a callable taking a :class:`ParameterContext`,
            evaluated once per run.
        type: ``str``, ``int``, ``float``, ``bool`` or ``JSONType``; inferred
            from the default when omitted.
        help: Shown by ``python flow.py run --help`` and ``show``.
        required: The run fails before it starts when no value is given.

    Example:
        >>> class TrainFlow(FlowSpec):
        ...     alpha = Parameter("alpha", default=0.01, help="learning rate")
    """

    kind = "parameter"

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        help: str | None = None,
        required: bool = False,
        show_default: bool = True,
        separator: str | None = None,
        **extra: Any,
    ) -> None:
        unknown = sorted(set(extra) - CLICK_KEYWORDS)
        if unknown:
            render_if_uncaught()
            raise ParameterError(
                f"Parameter {name!r} got unknown argument(s) {', '.join(unknown)}. Valid: name, "
                "default, type, help, required, show_default, separator, and the command-line "
                f"option keywords {', '.join(sorted(CLICK_KEYWORDS))}.",
                parameter=name,
            )
        if not isinstance(name, str) or not _NAME_RE.match(name):
            render_if_uncaught()
            raise ParameterError(
                f"Parameter name {name!r} is not valid: use letters, digits, '_' and '-', "
                "starting with a letter."
            )
        if name.lower() in RESERVED_PARAMETER_NAMES and not (
            self.kind == "config" and name.lower() in CONFIG_ALLOWED_NAMES
        ):
            render_if_uncaught()
            raise ParameterError(
                f"Parameter name '{name}' is reserved by the run command "
                f"(reserved: {', '.join(sorted(RESERVED_PARAMETER_NAMES))}). Choose another name."
            )
        self.name = name
        self.default = default
        self.help = help
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.click_options: dict[str, Any] = dict(extra)
        self.is_flag = bool(extra.get("is_flag", False))
        if self.is_flag and type is None:  # a flag is a boolean: absent False, present True
            type = bool
            if default is None:
                self.default = default = False
        self.type = type if type is not None else self._infer_type(default)
        self.attribute: str | None = None  # set by __set_name__

    @staticmethod
    def _infer_type(default: Any) -> Any:
        if callable(default) or default is None:
            return str
        if isinstance(default, bool):
            return bool
        if isinstance(default, (int, float, str)):
            return type(default)
        return JSONType

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance._sw_read_artifact(self.attribute)

    def __set__(self, instance: Any, value: Any) -> None:
        raise AttributeError(
            f"Parameter '{self.attribute}' is read-only inside a step; "
            "assign the value to another name."
        )

    @property
    def type_label(self) -> str:
        return _type_label(self.type)

    def convert(self, raw: Any, source: str = "the command line") -> Any:
        """Turn a command-line string (or a Python value) into the parameter's type."""
        if self.separator and isinstance(raw, str):
            return [self._convert_one(part, source) for part in raw.split(self.separator)]
        return self._convert_one(raw, source)

    def _convert_one(self, raw: Any, source: str) -> Any:
        kind = self.type
        try:
            if kind is bool:
                return raw if isinstance(raw, bool) else _parse_bool(str(raw))
            if kind in (int, float) and isinstance(raw, bool):
                raise ValueError("a bool is not a number")
            if kind is str and not isinstance(raw, str):
                return raw if raw is None else str(raw)
            return kind(raw)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"Parameter '{self.name}' expects {self.type_label}, got {raw!r} from {source}"
                f" ({exc}).\n  Pass e.g. --{self.name} <{self.type_label}>.",
                parameter=self.name,
                value=raw,
            ) from None

    def resolve_default(self, context: ParameterContext) -> Any:
        default = self.default
        if callable(default) and not isinstance(default, type):
            default = default(context)
        return default if default is None else self.convert(default, "its default")

    def describe(self) -> dict[str, Any]:
        default = self.default
        if callable(default):
            default = f"<computed by {getattr(default, '__name__', 'a function')}>"
        return {
            "name": self.name,
            "attribute": self.attribute,
            "kind": self.kind,
            "type": self.type_label,
            "default": default,
            "required": self.required,
            "help": self.help,
            "is_flag": self.is_flag,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, type={self.type_label})"


class IncludeFile(Parameter):
    """A local file whose contents become an artifact of the run (``--<name> path``)."""

    kind = "include-file"

    def __init__(
        self,
        name: str,
        required: bool = False,
        is_text: bool = True,
        encoding: str = "utf-8",
        help: str | None = None,
        default: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = is_text
        self.encoding = encoding

    @property
    def type_label(self) -> str:
        return "text file" if self.is_text else "binary file"

    def convert(self, raw: Any, source: str = "the command line") -> Any:
        if raw is None:
            return None
        path = os.path.expanduser(str(raw))
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise ParameterError(
                f"IncludeFile '{self.name}' cannot read {raw!r} from {source}: {exc.strerror}.",
                parameter=self.name,
                value=raw,
            ) from None
        if not self.is_text:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            raise ParameterError(
                f"IncludeFile '{self.name}': {raw!r} is not {self.encoding} text; "
                "declare it with is_text=False to include bytes.",
                parameter=self.name,
            ) from None
