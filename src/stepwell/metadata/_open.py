"""Opening the metadata store a setting names: ``local`` or a ``postgresql://`` URL.

Backends are found by the URL's scheme in a small registry of import paths, so
a backend's client library (psycopg) is imported only when it is used.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from stepwell.exceptions import ConfigError
from stepwell.metadata._base import MetadataStore

#: Scheme -> "module:factory". A factory takes (url, home=, source=, **options).
_BACKENDS: dict[str, str] = {
    "local": "stepwell.metadata._open:_sqlite",
    "postgresql": "stepwell.metadata._open:_postgres",
    "postgres": "stepwell.metadata._open:_postgres",
}


def register_metadata(scheme: str, factory: str) -> None:
    """Register a metadata backend for URLs ``SCHEME://...`` ("module:callable")."""
    _BACKENDS[scheme] = factory


def open_metadata(
    url: str | None, *, home: Path | str, source: str | None = None, **options: Any
) -> MetadataStore:
    """The metadata store ``url`` names.

    ``local`` (or None): SQLite at ``<home>/stepwell.db``, the embedded default.
    ``postgresql://USER@HOST:PORT/DB``: the shared PostgreSQL store (needs
    ``stepwell[postgres]``). ``source`` says where the URL came from, for messages.

    Example:
        >>> open_metadata("local", home="/tmp/sw")  # doctest: +SKIP
        SqliteMetadataStore('/tmp/sw/stepwell.db')
    """
    url = url or "local"
    scheme = "local" if url == "local" else url.split("://", 1)[0] if "://" in url else url
    target = _BACKENDS.get(scheme)
    if target is None:
        raise ConfigError(
            f"Unsupported metadata {redact(url)!r}"
            f"{f' (from {source})' if source else ''}: stepwell records runs in 'local' "
            "(SQLite in STEPWELL_HOME) or in PostgreSQL (postgresql://USER@HOST:PORT/DB).",
            setting="metadata",
        )
    module_name, _, attr = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    store: MetadataStore = factory(url, home=Path(home), source=source, **options)
    return store


def redact(url: str) -> str:
    """The URL without its password: ``postgresql://alice:***@host/db``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url.split("@")[-1]
    if password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def is_local(url: str | None) -> bool:
    """Whether ``url`` names the embedded SQLite store."""
    return not url or url == "local"


def _sqlite(url: str, *, home: Path, source: str | None, **options: Any) -> MetadataStore:
    from stepwell.metadata._sqlite import SqliteMetadataStore

    return SqliteMetadataStore(home / "stepwell.db", **options)


def _postgres(url: str, *, home: Path, source: str | None, **options: Any) -> MetadataStore:
    from stepwell.metadata._postgres import PostgresMetadataStore

    return PostgresMetadataStore(url, source=source, **options)


def open_configured_metadata(settings: Any, **options: Any) -> MetadataStore:
    """The metadata store a :class:`~stepwell.config.Settings` names (``metadata``, ``home``)."""
    return open_metadata(
        settings.metadata, home=settings.home, source=settings.source("metadata"), **options
    )
