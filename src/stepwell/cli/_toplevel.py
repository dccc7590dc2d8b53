"""The top-level options of ``python flow.py`` (and of ``stepwell``), as Metaflow names them.

They go before the command (``python flow.py --datastore=s3 --metadata local run``),
in any order, in the ``--opt value`` or ``--opt=value`` form. ``stepwell run FILE``
takes them too and passes them on to the flow file's command line, see
:func:`top_level_argv`.

Values with a stepwell meaning act; values of Metaflow's that stepwell lacks
(``--datastore=azure``, ``--metadata=service``) stop with one message naming
what is supported; Metaflow's ``--event-logger`` and ``--monitor`` values are
accepted and do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from stepwell.cli._errors import cli_errors
from stepwell.cli._options import metadata_option, use_metadata
from stepwell.exceptions import ConfigError

DATASTORES = ("local", "s3")
ENVIRONMENTS = ("local", "pypi", "uv", "conda")
EVENT_LOGGERS = ("nullSidecarLogger", "debugLogger")
MONITORS = ("nullSidecarMonitor", "debugMonitor")


def check_datastore(value: str | None) -> str | None:
    """``--datastore``: ``local`` or ``s3``; Metaflow's others (azure, gs) stop here."""
    if value is None or value in DATASTORES:
        return value
    raise ConfigError(
        f"Setting 'datastore' must be 'local' or 's3'; got {value!r} (from command line). "
        "stepwell supports the datastores local and s3: for a store with an S3-compatible "
        "API, use --datastore s3 --datastore-root s3://BUCKET/PREFIX and set "
        "STEPWELL_S3_ENDPOINT_URL; otherwise use --datastore local.",
        setting="datastore",
        value=value,
    )


def package_suffixes(text: str | None) -> tuple[str, ...] | None:
    """``--package-suffixes .py,.R``: the file suffixes the code package takes."""
    if text is None:
        return None
    from stepwell.config import load_settings

    return tuple(load_settings(package_suffixes=text).package_suffixes)


def _options() -> list[Callable[[Any], Any]]:
    return [
        click.option("--quiet/--not-quiet", default=False, help="Print nothing but failures."),
        click.option(
            "--pylint/--no-pylint",
            default=True,
            help="Accepted for Metaflow compatibility; stepwell's own checks always run.",
        ),
        click.option(
            "--with",
            "with_all",
            multiple=True,
            metavar="DECORATOR[:k=v,...]",
            help="Add a step decorator to every step (repeatable).",
        ),
        click.option(
            "--config",
            "config_files",
            multiple=True,
            nargs=2,
            metavar="NAME FILE",
            help="Read Config NAME from FILE (JSON, TOML or YAML by its parser/suffix).",
        ),
        click.option(
            "--config-value",
            "config_values",
            multiple=True,
            nargs=2,
            metavar="NAME JSON",
            help="Give Config NAME this JSON value.",
        ),
        click.option("--branch", default=None, help="@project: run on branch test.<BRANCH>."),
        click.option("--production", is_flag=True, help="@project: run on the production branch."),
        click.option(
            "--datastore",
            default=None,
            metavar="local|s3",
            help="Where artifacts, logs, cards and code go (default: STEPWELL_DATASTORE or local).",
        ),
        click.option(
            "--datastore-root",
            default=None,
            metavar="URL",
            help="s3://BUCKET/PREFIX for the S3 datastore, or a directory for the local one.",
        ),
        metadata_option,
        click.option(
            "--environment",
            type=click.Choice(ENVIRONMENTS),
            default=None,
            help="Accepted for Metaflow's command lines (local, pypi, uv, conda): @pypi and "
            "@conda steps get their environment (built with uv) whichever is given.",
        ),
        click.option(
            "--event-logger",
            type=click.Choice(EVENT_LOGGERS),
            default=None,
            help="Accepted for Metaflow compatibility; does nothing.",
        ),
        click.option(
            "--monitor",
            type=click.Choice(MONITORS),
            default=None,
            help="Accepted for Metaflow compatibility; does nothing.",
        ),
        click.option(
            "--package-suffixes",
            default=None,
            metavar=".py,.R,...",
            help="File suffixes the run's code package takes (comma-separated; default .py).",
        ),
    ]


#: The names click gives the top-level options' values, in declaration order.
NAMES = (
    "quiet",
    "pylint",
    "with_all",
    "config_files",
    "config_values",
    "branch",
    "production",
    "datastore",
    "datastore_root",
    "metadata",
    "environment",
    "event_logger",
    "monitor",
    "package_suffixes",
)


def top_level_options(command: Any) -> Any:
    """Decorate a click command or group with every top-level option."""
    for option in reversed(_options()):
        command = option(command)
    return command


def pop_top_level(values: dict[str, Any]) -> dict[str, Any]:
    """Take the top-level options' values out of a callback's keyword arguments."""
    return {name: values.pop(name) for name in NAMES}


def apply_top_level(values: dict[str, Any]) -> None:
    """Check the values and put metadata and datastore in this process's environment.

    Every reader in the process (run, resume, dump, logs, card, tag, the Client)
    and every task it starts then sees them (so does ``--environment``, as
    ``STEPWELL_ENVIRONMENT``); a bad value stops here with one message.
    """
    with cli_errors():
        datastore = check_datastore(values["datastore"])
        if package_suffixes(values["package_suffixes"]) is not None:
            os.environ["STEPWELL_PACKAGE_SUFFIXES"] = values["package_suffixes"]
        if values["metadata"] is not None:
            use_metadata(values["metadata"])
        if values["environment"] is not None:
            os.environ["STEPWELL_ENVIRONMENT"] = values["environment"]
        if datastore is not None or values["datastore_root"] is not None:
            from stepwell.config import load_settings

            load_settings(datastore=datastore, datastore_root=values["datastore_root"])
            if datastore is not None:
                os.environ["STEPWELL_DATASTORE"] = datastore
            if values["datastore_root"] is not None:
                os.environ["STEPWELL_DATASTORE_ROOT"] = values["datastore_root"]


def top_level_argv(*layers: dict[str, Any]) -> list[str]:
    """The command-line form of the top-level options given (later layers win).

    ``stepwell --metadata X run --datastore s3 flow.py`` becomes
    ``flow.py --metadata X --datastore s3 run``.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        for name in NAMES:
            value = layer.get(name)
            given = value is False if name == "pylint" else value not in (None, False, ())
            if given:
                merged[name] = value
    argv: list[str] = []
    for name, value in merged.items():
        flag = "--" + name.replace("_", "-")
        if name == "with_all":
            argv += [a for each in value for a in ("--with", each)]
        elif name in ("config_files", "config_values"):
            flag = "--config" if name == "config_files" else "--config-value"
            argv += [a for pair in value for a in (flag, *pair)]
        elif name == "pylint":
            argv.append("--no-pylint")
        elif value is True:
            argv.append(flag)
        else:
            argv += [flag, str(value)]
    return argv
