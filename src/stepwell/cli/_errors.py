"""How the CLI shows errors: a known one briefly, anything else as an internal error."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from stepwell.exceptions import RunStopped, StepwellError

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_INTERNAL = 2


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn exceptions into an exit code and a readable message."""
    try:
        yield
    except StepwellError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(EXIT_FAILED)
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except RunStopped as exc:
        click.echo(f"Stopped by {exc.signal_name}: the run's tasks were stopped.", err=True)
        sys.exit(exc.exit_code)
    except Exception:
        click.echo("Internal error in stepwell (please report it):", err=True)
        click.echo(traceback.format_exc(), err=True)
        sys.exit(EXIT_INTERNAL)


def guarded(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator form of :func:`cli_errors` for click callbacks."""

    def wrapper(*args: object, **kwargs: object) -> T:
        with cli_errors():
            return func(*args, **kwargs)
        raise AssertionError("unreachable")

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
