"""``Config``: configuration fixed before the flow is built, usable in decorator arguments.

In the class body a config has no value yet, so ``config.train.cpu`` there is
a :class:`DelayedConfig`: a path into the config. Decorators keep it as it is;
when the run knows the config's value (``--<name> FILE`` or the default), the
runtime resolves every delayed attribute and validates the decorator then.
Inside a step, ``self.<config>`` is the value itself, a read-only
:class:`ConfigValue`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from stepwell.exceptions import DecoratorError, ParameterError
from stepwell.flow._parameters import Parameter, ParameterContext


class ConfigValue(Mapping[str, Any]):
    """A read-only view of a configuration: attribute and item access, immutable."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __getattr__(self, key: str) -> Any:
        try:
            return _freeze(self._data[key])
        except KeyError:
            raise AttributeError(
                f"Config has no key '{key}'; keys: {', '.join(sorted(self._data))}"
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("A Config is immutable at run time.")

    def __getitem__(self, key: str) -> Any:
        return _freeze(self._data[key])

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def __reduce__(self) -> tuple[Any, ...]:
        return (ConfigValue, (self._data,))

    def __repr__(self) -> str:
        return f"ConfigValue({self._data!r})"


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ConfigValue(value)
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


_PARSER_BY_SUFFIX = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def _toml(text: str) -> Any:
    import tomllib

    return tomllib.loads(text)


def _yaml(text: str) -> Any:
    try:
        import yaml
    except ModuleNotFoundError:
        raise ParameterError(
            "YAML configs need the 'pyyaml' package. Install it with: pip install pyyaml"
        ) from None
    return yaml.safe_load(text)


_NAMED_PARSERS: dict[str, Callable[[str], Any]] = {"json": json.loads, "toml": _toml, "yaml": _yaml}


class Config(Parameter):
    """A configuration fixed before the flow is built (``--<name> FILE`` on the command line).

    Args:
        name: The configuration's name on the command line.
        default: Path of a file read when no ``--config`` is given.
        default_value: A value (dict or JSON text) used when there is no file.
        parser: A callable turning the file's text into a dict, a name ("json",
            "toml", "yaml"), or a dotted path imported when the config is read
            ("tomllib.loads"). By default the file's suffix decides, else JSON.
        required: The run fails when no value is given.
    """

    kind = "config"

    def __init__(
        self,
        name: str,
        default: str | None = None,
        default_value: Any = None,
        help: str | None = None,
        required: bool = False,
        parser: Callable[[str], Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.default_value = default_value
        self.parser = parser

    @property
    def type_label(self) -> str:
        return "config"

    def __getattr__(self, key: str) -> DelayedConfig:
        # Only reached for names a Parameter does not have: a key of the config.
        if key.startswith("_"):
            raise AttributeError(key)
        return DelayedConfig(self, (key,))

    def __getitem__(self, key: str) -> DelayedConfig:
        return DelayedConfig(self, (key,))

    def parse_text(self, text: str, source: str, path: str = "") -> ConfigValue:
        """Parse a config's text: ``parser`` (a callable, or "json", "toml", "yaml"), else
        by the file's suffix (.toml, .yaml, .yml), else JSON."""
        parser = self.parser
        if parser is None:
            parser = _PARSER_BY_SUFFIX.get(os.path.splitext(path)[1].lower(), "json")
        if isinstance(parser, str):
            parser = self._named_parser(parser)
        try:
            data = parser(text)
        except Exception as exc:
            raise ParameterError(
                f"Config '{self.name}' from {source} cannot be parsed: {exc}",
                parameter=self.name,
            ) from None
        if not isinstance(data, Mapping):
            raise ParameterError(
                f"Config '{self.name}' from {source} must be a mapping, got {type(data).__name__}."
            )
        return ConfigValue(data)

    def _named_parser(self, name: str) -> Callable[[str], Any]:
        if name.lower() in _NAMED_PARSERS:
            return _NAMED_PARSERS[name.lower()]
        if "." in name:
            return self._imported_parser(name)
        raise ParameterError(
            f"Config '{self.name}': unknown parser {name!r}; use json, toml, yaml, "
            "a callable, or a dotted path such as 'tomllib.loads'.",
            parameter=self.name,
        )

    def _imported_parser(self, path: str) -> Callable[[str], Any]:
        """``parser="package.module.function"``, imported only when the config is parsed."""
        import importlib

        module_name, _, attribute = path.rpartition(".")
        try:
            parser = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ParameterError(
                f"Config '{self.name}': parser {path!r} cannot be imported ({exc}). Give "
                "'module.function' of an installed module, e.g. parser='tomllib.loads'.",
                parameter=self.name,
            ) from None
        if not callable(parser):
            raise ParameterError(
                f"Config '{self.name}': parser {path!r} is a {type(parser).__name__}, "
                "not a function.",
                parameter=self.name,
            )
        return parser

    def convert(self, raw: Any, source: str = "the command line") -> Any:
        if raw is None or isinstance(raw, ConfigValue):
            return raw
        if isinstance(raw, Mapping):
            return ConfigValue(raw)
        path = os.path.expanduser(str(raw))
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ParameterError(
                f"Config '{self.name}' cannot read {raw!r} from {source}: {exc.strerror}."
            ) from None
        return self.parse_text(text, f"{raw} ({source})", path)

    def resolve_default(self, context: ParameterContext) -> Any:
        if self.default is not None:
            return self.convert(self.default, "its default file")
        value = self.default_value
        if callable(value):
            value = value(context)
        if isinstance(value, str):
            return self.parse_text(value, "its default_value")
        return None if value is None else ConfigValue(value)


class DelayedConfig:
    """``config.a.b`` (or ``config["a"]["b"]``) written where the value is not known yet."""

    __stepwell_delayed__ = True

    def __init__(self, config: Config, path: tuple[str, ...]) -> None:
        self._config = config
        self._path = path

    def __getattr__(self, key: str) -> DelayedConfig:
        if key.startswith("_"):
            raise AttributeError(key)
        return DelayedConfig(self._config, (*self._path, key))

    def __getitem__(self, key: str) -> DelayedConfig:
        return DelayedConfig(self._config, (*self._path, key))

    def resolve(self, values: Mapping[str, Any]) -> Any:
        """The value at this path, given the run's configs by attribute name."""
        config = self._config
        value = values.get(config.attribute or config.name)
        if value is None:
            raise ParameterError(
                f"{self!r} is used before config '{config.name}' has a value; "
                f"pass --{config.name} FILE or give the Config a default.",
                parameter=config.name,
            )
        for key in self._path:
            try:
                value = value[key]
            except (KeyError, TypeError, IndexError):
                raise ParameterError(
                    f"{self!r}: config '{config.name}' has no key {key!r} at this path.",
                    parameter=config.name,
                ) from None
        return _thaw(value)

    def __repr__(self) -> str:
        return ".".join((self._config.attribute or self._config.name, *self._path))


def _thaw(value: Any) -> Any:
    """Plain dicts and lists again, as decorator attributes expect."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


def resolve_decorator(decorator: Any, configs: Mapping[str, Any]) -> Any:
    """A copy of ``decorator`` with every config-delayed attribute replaced by its value.

    The copy is validated like a decorator written with plain values; an error
    names the decorator, the attribute and the config path. A user decorator
    (``with_configs``) is resolved and initialised by itself.
    """
    if hasattr(decorator, "with_configs"):
        return decorator.with_configs(configs)
    delayed = {
        name: value
        for name, value in decorator.attributes().items()
        if getattr(value, "__stepwell_delayed__", False)
    }
    if not delayed:
        return decorator
    resolved = {name: value.resolve(configs) for name, value in delayed.items()}
    try:
        return dataclasses.replace(decorator, **resolved)
    except DecoratorError as exc:
        paths = ", ".join(f"{name}={value!r}" for name, value in delayed.items())
        exc.message += f"\n  (values from config: {paths})"
        raise


class ConfigExpr:
    """``config_expr("config.train.cpu * 2")``: an expression over the flow's configs.

    Written where the configs have no value yet (decorator arguments); the run
    evaluates it once every config is known, with each config bound to its
    attribute name.
    """

    __stepwell_delayed__ = True

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str) or not expression.strip():
            raise DecoratorError(
                f"config_expr() takes a Python expression as a string, got {expression!r}."
            )
        self.expression = expression

    def resolve(self, values: Mapping[str, Any]) -> Any:
        scope = {name: value for name, value in values.items() if isinstance(value, ConfigValue)}
        try:
            value = eval(self.expression, {"__builtins__": __builtins__}, scope)
        except Exception as exc:
            raise ParameterError(
                f"config_expr({self.expression!r}) failed: {type(exc).__name__}: {exc}. "
                f"Configs in scope: {', '.join(sorted(scope)) or 'none'}."
            ) from None
        return _thaw(value)

    def __repr__(self) -> str:
        return f"config_expr({self.expression!r})"


def config_expr(expression: str) -> ConfigExpr:
    """An expression over the flow's configs, evaluated when the run knows them.

    Example:
        >>> @resources(cpu=config_expr("config.cpu"))  # doctest: +SKIP
    """
    return ConfigExpr(expression)
