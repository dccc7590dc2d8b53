from __future__ import annotations

import getpass
import os
import pwd
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from stepwell.exceptions import ConfigError

#: Values of the ``environment`` setting (``--environment``, METAFLOW_DEFAULT_ENVIRONMENT).
ENVIRONMENTS = ("local", "pypi", "uv", "conda")


class Setting(NamedTuple):
    """One resolved value and where it came from (``env:STEPWELL_HOME``, a file, ``default``)."""

    value: Any
    source: str


def _positive_int(name: str) -> Callable[[Any, str], int]:
    def parse(raw: Any, source: str) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"Setting '{name}' must be a whole number, got {raw!r} (from {source}).",
                setting=name,
                value=raw,
            ) from None
        if value < 1:
            raise ConfigError(
                f"Setting '{name}' must be at least 1, got {value} (from {source}).",
                setting=name,
                value=raw,
            )
        return value

    return parse


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(raw: Any, source: str) -> str:
        if raw not in choices:
            raise ConfigError(
                f"Setting '{name}' must be one of {', '.join(choices)}; "
                f"got {raw!r} (from {source}).",
                setting=name,
                value=raw,
            )
        return str(raw)

    return parse


def _path(raw: Any, source: str) -> Path:
    return Path(os.path.expanduser(str(raw))).resolve()


def _home(raw: Any, source: str) -> Path:
    """A directory (created on first use); a file of that name is refused here, not later."""
    path = _path(raw, source)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"Setting 'home' is {path} (from {source}), which is a file: stepwell keeps its "
            "runs in a directory there. Point STEPWELL_HOME at a directory (it is created if "
            "missing).",
            setting="home",
            value=str(path),
        )
    return path


def _bytes(raw: Any, source: str) -> int:
    """A size in bytes: a whole number, or one with a unit (``512M``, ``10G``, ``1T``)."""
    text = str(raw).strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        value = int(float(number) * scale)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(
            f"Setting 'cache_bytes' must be a size such as 0, 500M or 10G, got {raw!r} "
            f"(from {source}).",
            setting="cache_bytes",
            value=raw,
        )
    return value


def _flag(name: str) -> Callable[[Any, str], bool]:
    def parse(raw: Any, source: str) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(
            f"Setting '{name}' must be true or false (1/0, yes/no), got {raw!r} (from {source}).",
            setting=name,
            value=raw,
        )

    return parse


def _suffixes(raw: Any, source: str) -> tuple[str, ...]:
    """File suffixes: ``.py,.R,.sql`` or, in stepwell.toml, a list."""
    parts = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    suffixes = tuple(str(p).strip() for p in parts if str(p).strip())
    if not suffixes:
        raise ConfigError(
            f"Setting 'package_suffixes' needs at least one suffix, got {raw!r} (from {source}). "
            "Example: .py,.R,.sql",
            setting="package_suffixes",
            value=raw,
        )
    return suffixes


def _text(raw: Any, source: str) -> str:
    return str(raw).strip()


def _metadata(raw: Any, source: str) -> str:
    """``local`` (SQLite in ``home``) or a ``postgresql://`` URL."""
    text = str(raw).strip()
    if text == "local" or text.startswith(("postgresql://", "postgres://")):
        return text
    hint = ""
    if text == "service":
        hint = (
            " stepwell needs no metadata service: point every user at one PostgreSQL "
            "database instead."
        )
    shown = text if "@" not in text else text.split("://", 1)[0] + "://..."
    raise ConfigError(
        f"Setting 'metadata' must be 'local' or a postgresql:// URL; got {shown!r} "
        f"(from {source}).{hint} Example: postgresql://alice@db.example.com:5432/stepwell",
        setting="metadata",
    )


def _days(name: str) -> Callable[[Any, str], float]:
    def parse(raw: Any, source: str) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if not value >= 0 or value == float("inf"):
            raise ConfigError(
                f"Setting '{name}' must be a number of days (0 or more, e.g. 30 or 0.5), "
                f"got {raw!r} (from {source}).",
                setting=name,
                value=raw,
            )
        return value

    return parse


def _default_executor() -> str:
    return "fork" if hasattr(os, "fork") else "subprocess"


# name -> (parser, default factory)
_SPEC: dict[str, tuple[Callable[[Any, str], Any], Callable[[], Any]]] = {
    "home": (_home, lambda: Path.home() / ".stepwell"),
    "executor": (_choice("executor", ("fork", "subprocess", "ray")), _default_executor),
    # The Ray cluster of --executor ray (host:port or ray://...); unset: a local Ray per run.
    "ray_address": (_text, lambda: None),
    "max_workers": (_positive_int("max_workers"), lambda: os.cpu_count() or 1),
    "max_num_splits": (_positive_int("max_num_splits"), lambda: 100_000),
    "user": (lambda raw, source: str(raw), lambda: None),
    # Where runs are recorded: "local" (SQLite in home) or postgresql://USER@HOST:PORT/DB.
    "metadata": (_metadata, lambda: "local"),
    "datastore": (_choice("datastore", ("local", "s3")), lambda: "local"),
    "datastore_root": (_text, lambda: None),
    "s3_endpoint_url": (_text, lambda: None),
    # This machine's copies of a remote datastore's blobs (<home>/cache); 0 turns it off.
    "cache_bytes": (_bytes, lambda: 10 << 30),
    # Where steps get their packages: this interpreter, or a per-step @pypi/@conda env.
    "environment": (_choice("environment", ENVIRONMENTS), lambda: "local"),
    # A @resources request larger than this machine: capped with a note (Metaflow's
    # behaviour, the default) or, when true, refused before the run starts.
    "resources_strict": (_flag("resources_strict"), lambda: False),
    # The files of the flow's directory that go into its code package, by suffix.
    "package_suffixes": (_suffixes, lambda: (".py",)),
    # Retention for `stepwell gc` without options: keep each flow's N newest runs and/or
    # delete only runs started more than D days ago. Unset: gc deletes no run unless told.
    "gc_keep_last": (_positive_int("gc_keep_last"), lambda: None),
    "gc_older_than_days": (_days("gc_older_than_days"), lambda: None),
}

#: Metaflow's names for the same settings, read when stepwell's own are not set
#: (the first one set wins). See docs/settings.md for the table.
_ALIASES: dict[str, tuple[str, ...]] = {
    "home": ("METAFLOW_DATASTORE_SYSROOT_LOCAL",),
    "user": ("METAFLOW_USER",),
    "max_workers": ("METAFLOW_RUN_MAX_WORKERS",),
    "max_num_splits": ("METAFLOW_RUN_MAX_NUM_SPLITS",),
    "metadata": ("METAFLOW_DEFAULT_METADATA",),
    "datastore": ("METAFLOW_DEFAULT_DATASTORE",),
    "datastore_root": ("METAFLOW_DATASTORE_SYSROOT_S3",),
    "s3_endpoint_url": ("METAFLOW_S3_ENDPOINT_URL",),
    "environment": ("METAFLOW_DEFAULT_ENVIRONMENT",),
    "package_suffixes": ("METAFLOW_DEFAULT_PACKAGE_SUFFIXES",),
    "ray_address": ("RAY_ADDRESS",),  # Ray's own name for it
}

#: Aliases whose value means something slightly different: turned into stepwell's meaning.
#: Metaflow keeps a local datastore in ``<METAFLOW_DATASTORE_SYSROOT_LOCAL>/.metaflow``;
#: stepwell keeps its home next to it, in ``<that directory>/.stepwell``.
_ALIAS_VALUE: dict[str, Callable[[str], Any]] = {
    "METAFLOW_DATASTORE_SYSROOT_LOCAL": lambda raw: Path(os.path.expanduser(raw)) / ".stepwell",
}


def setting_names() -> tuple[str, ...]:
    """Every setting's name, in the order ``stepwell settings`` shows them."""
    return tuple(_SPEC)


def variables_of(name: str) -> tuple[str, ...]:
    """The environment variables setting ``name`` is read from, in order of precedence."""
    return (f"STEPWELL_{name.upper()}", *_ALIASES.get(name, ()))


def setting_variables() -> tuple[str, ...]:
    """Every environment variable that a setting is read from (stepwell's names and aliases)."""
    return tuple(n for name in _SPEC for n in variables_of(name))


class Settings(NamedTuple):
    """The settings of one process, read-only. Build with :func:`load_settings`.

    Each setting is an attribute (``settings.home``). A tuple, not a dataclass:
    every command and every Client read builds one, and ``dataclasses`` (with
    ``inspect``) is not imported for it.
    """

    values: Mapping[str, Setting]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name].value
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self.values[name].source

    @property
    def username(self) -> str:
        return resolve_username(self.values["user"].value)

    @property
    def datastore_url(self) -> str:
        """Where blobs go: ``s3://bucket/prefix`` for the S3 datastore, else a local directory.

        The local datastore keeps blobs in ``home`` unless ``datastore_root`` names
        another directory. Raises ConfigError for an S3 datastore without a root.
        """
        root = self.values["datastore_root"].value
        if self.datastore == "s3":
            if not root:
                raise ConfigError(
                    "The S3 datastore needs a root: set STEPWELL_DATASTORE_ROOT=s3://BUCKET/PREFIX "
                    "(or pass --datastore-root s3://BUCKET/PREFIX).",
                    setting="datastore_root",
                )
            if not str(root).startswith("s3://"):
                raise ConfigError(
                    f"Setting 'datastore_root' must be an s3:// URL for the S3 datastore, got "
                    f"{root!r} (from {self.source('datastore_root')}). "
                    "Example: s3://my-bucket/stepwell.",
                    setting="datastore_root",
                    value=root,
                )
            return str(root)
        if root and self.source("datastore_root") != "env:METAFLOW_DATASTORE_SYSROOT_S3":
            if str(root).startswith("s3://"):
                raise ConfigError(
                    f"Setting 'datastore_root' is an S3 URL ({root!r}, from "
                    f"{self.source('datastore_root')}) but the datastore is 'local'. "
                    "Set STEPWELL_DATASTORE=s3 (or pass --datastore s3) to use it.",
                    setting="datastore_root",
                    value=root,
                )
            return str(_path(root, ""))
        return str(self.home)


def _find_toml(cwd: Path) -> Path | None:
    for folder in (cwd, *cwd.parents):
        candidate = folder / "stepwell.toml"
        if candidate.is_file():
            return candidate
    return None


def _toml_parser() -> Any:
    """tomllib (Python 3.11+) or tomli, imported only when a settings file exists."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            return None
    return tomllib


def _read_toml(path: Path) -> dict[str, Any]:
    tomllib = _toml_parser()
    if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
        raise ConfigError(
            f"Cannot read {path}: reading stepwell.toml needs Python 3.11+ or the 'tomli' "
            "package (pip install tomli).",
            file=str(path),
        )
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}", file=str(path)) from None
    unknown = sorted(set(data) - set(_SPEC))
    if unknown:
        raise ConfigError(
            f"{path} has unknown setting(s): {', '.join(unknown)}. "
            f"Valid settings: {', '.join(sorted(_SPEC))}.",
            file=str(path),
        )
    return data


def load_settings(
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve every setting: explicit overrides > environment > stepwell.toml > defaults."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    toml_path = _find_toml(cwd)
    toml = _read_toml(toml_path) if toml_path else {}
    values: dict[str, Setting] = {}
    for name, (parse, default) in _SPEC.items():
        env_name = next((n for n in variables_of(name) if env.get(n)), None)
        if overrides.get(name) is not None:
            raw, source = overrides[name], "command line"
        elif env_name is not None:
            raw, source = env[env_name], f"env:{env_name}"
            if env_name in _ALIAS_VALUE:
                raw = _ALIAS_VALUE[env_name](raw)
        elif name in toml:
            raw, source = toml[name], str(toml_path)
            if name == "home" and toml_path is not None:
                raw = (toml_path.parent / os.path.expanduser(str(raw))).resolve()
        else:
            values[name] = Setting(default(), "default")
            continue
        values[name] = Setting(parse(raw, source), source)
    return Settings(values)


def resolve_username(explicit: str | None = None) -> str:
    """STEPWELL_USER (or the setting), METAFLOW_USER, the login name, then the process owner.

    Never fails: root and containers without a passwd entry get a name too.
    """
    if explicit:
        return explicit
    for var in ("STEPWELL_USER", "METAFLOW_USER", "LOGNAME", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except Exception:
        pass
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except Exception:
        return f"uid{os.getuid()}"
