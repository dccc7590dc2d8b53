"""@secrets: resolve secrets into environment variables at task start, and keep them out of sight.

Providers (a source is ``"kind:id"`` or a dict with a ``"type"``):

- ``env``: ``"env:DB_PASSWORD"`` reads ``STEPWELL_SECRET_DB_PASSWORD`` from the
  environment the run was started in and gives the step ``DB_PASSWORD``.
  Every ``STEPWELL_SECRET_*`` variable is hidden from every step.
- ``file``: ``"file:/path/to/secrets.env"`` (``KEY=VALUE`` lines, ``#`` comments)
  or a ``.json`` file holding one object; each key becomes a variable.
- ``inline``: ``{"type": "inline", "values": {"KEY": "value"}}``, for tests.
- ``kubernetes``: ``"kubernetes:db-credentials"``, a Kubernetes secret. A deployed
  flow's pod gets its keys as variables from Kubernetes itself (the Argo
  compiler writes ``envFrom``), so nothing is resolved here; in a local run the
  source gives nothing (set the variables, or use ``env:``, for local runs).

Values live only in the task's environment: never in artifacts, metadata or
the task spec. Printed through Python's ``sys.stdout``/``sys.stderr``, a value
shows as ``****`` (output written straight to file descriptors by native code
is not masked).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from stepwell.exceptions import ConfigError

SECRET_PREFIX = "STEPWELL_SECRET_"
MASK = "****"
_MIN_MASKED = 3  # shorter values would mask ordinary text


def resolve_secrets(sources: Iterable[Any]) -> dict[str, str]:
    """Every secret of ``sources`` as variable name -> value, later sources winning."""
    values: dict[str, str] = {}
    for source in sources:
        kind, spec = _parse(source)
        values.update(_PROVIDERS[kind](spec))
    return values


def _parse(source: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(source, str):
        kind, _, ident = source.partition(":")
        spec: Mapping[str, Any] = {"id": ident}
    elif isinstance(source, Mapping):
        kind, spec = str(source.get("type", "")), source
    else:
        kind, spec = "", {}
    if kind not in _PROVIDERS:
        raise ConfigError(
            f"@secrets source {source!r} is not understood. Use 'env:NAME', 'file:PATH', "
            "'kubernetes:SECRET_NAME' or {'type': 'inline', 'values': {...}}.",
        )
    return kind, spec


def _from_env(spec: Mapping[str, Any]) -> dict[str, str]:
    import os

    name = str(spec.get("id", ""))
    variable = SECRET_PREFIX + name
    if not name or variable not in os.environ:
        raise ConfigError(
            f"@secrets source 'env:{name}' needs the variable {variable} in the environment "
            "the run was started from.",
        )
    return {name: os.environ[variable]}


def _from_file(spec: Mapping[str, Any]) -> dict[str, str]:
    path = Path(str(spec.get("path") or spec.get("id", ""))).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"@secrets source 'file:{path}' cannot be read: {exc.strerror}."
        ) from None
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ConfigError(f"@secrets file {path} must hold a JSON object.")
        return {str(k): str(v) for k, v in data.items()}
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE.")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _inline(spec: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(spec.get("values", {})).items()}


def _from_kubernetes(spec: Mapping[str, Any]) -> dict[str, str]:
    return {}  # Kubernetes put the secret's keys in the pod's environment (envFrom)


_PROVIDERS = {
    "env": _from_env,
    "file": _from_file,
    "inline": _inline,
    "kubernetes": _from_kubernetes,
}


def mask(text: str | None, values: Iterable[str]) -> str | None:
    """``text`` with every secret value (of 3 characters or more) replaced by ``****``."""
    if text is None:
        return None
    for value in sorted((v for v in values if len(v) >= _MIN_MASKED), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class _Masking:
    """A text stream that writes through to another, with secret values replaced."""

    def __init__(self, stream: TextIO, values: list[str]) -> None:
        self._stream = stream
        self._values = values

    def write(self, text: str) -> int:
        for value in self._values:
            text = text.replace(value, MASK)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def masked_output(values: Iterable[str]) -> Iterator[None]:
    """Mask ``values`` in what Python prints for the duration of the block."""
    secrets = sorted((v for v in values if len(v) >= _MIN_MASKED), key=len, reverse=True)
    saved = sys.stdout, sys.stderr
    sys.stdout = _Masking(sys.stdout, secrets)
    sys.stderr = _Masking(sys.stderr, secrets)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
