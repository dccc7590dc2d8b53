"""``metadata()``, ``get_metadata()``, ``default_metadata()``: the store the Client reads.

Metaflow's names. The choice is this process's, like the namespace: it
changes what the Client API reads, not where runs record themselves (that is
the ``--metadata`` option or ``STEPWELL_METADATA``).

- ``metadata("local")``: the SQLite store in this machine's stepwell home.
- ``metadata("local@/path/to/home")``: the store (and artifacts) of another home.
- ``metadata("postgresql://user@host/db")``: a team's PostgreSQL store.
"""

from __future__ import annotations

from pathlib import Path

from stepwell.client._backend import choose_metadata, get_backend
from stepwell.exceptions import ConfigError

_POSTGRES = ("postgresql://", "postgres://")


def get_metadata() -> str:
    """The metadata store the Client reads: ``local@<home>`` or a PostgreSQL URL (no password).

    Example:
        >>> get_metadata()  # doctest: +SKIP
        'local@/home/ana/.stepwell'
    """
    backend = get_backend()
    url = backend.metadata_url
    if url.startswith(_POSTGRES):
        from stepwell.metadata import redact_url

        return str(redact_url(url))
    return f"local@{backend.home}"


def metadata(ms: str) -> str:
    """Switch the metadata store the Client reads; returns :func:`get_metadata` after it.

    Args:
        ms: ``"local"``, ``"local@<stepwell home>"``, a path to a stepwell home,
            or a ``postgresql://`` URL.
    """
    if not isinstance(ms, str) or not ms.strip():
        raise ConfigError(_unsupported(repr(ms)))
    kind, _, where = ms.partition("@")
    if ms.startswith(_POSTGRES):
        choose_metadata(ms)
    elif kind == "local" and not where:
        choose_metadata("local")
    elif kind == "local" or ("://" not in ms and "@" not in ms):
        home = Path(where or ms).expanduser()
        if not home.is_dir():
            raise ConfigError(
                f"metadata({ms!r}): {home} is not a directory. Give the stepwell home that "
                "holds stepwell.db, e.g. metadata('local@~/.stepwell')."
            )
        choose_metadata("local", str(home.resolve()))
    else:
        raise ConfigError(_unsupported(repr(ms)))
    return get_metadata()


def inspect_spin(path: str = ".") -> str:
    """Read what ``spin --persist`` recorded in ``<path>/.stepwell_spin``; see :func:`get_metadata`.

    Example:
        >>> inspect_spin(".")  # doctest: +SKIP
        >>> Flow("TrainFlow").latest_run["train"].task["model"].data  # doctest: +SKIP
    """
    from stepwell.runtime import SPIN_DIR

    home = Path(path).expanduser() / SPIN_DIR
    if not (home / "stepwell.db").is_file():
        raise ConfigError(
            f"inspect_spin({path!r}): {home} holds no spin results. Spin a step with --persist "
            "(python flow.py spin STEP --persist) in that directory first."
        )
    return metadata(f"local@{home}")


def default_metadata() -> str:
    """Go back to the metadata store the settings name; returns :func:`get_metadata`."""
    choose_metadata(None)
    return get_metadata()


def _unsupported(value: str) -> str:
    return (
        f"metadata({value}) is not a metadata store stepwell can read. Supported: 'local', "
        "'local@<stepwell home>', a path to a stepwell home, or a 'postgresql://' URL "
        "(Metaflow's metadata service is not supported)."
    )
