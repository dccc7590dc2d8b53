"""Whether a run stored as ``running`` still has a live scheduler.

A scheduler calls ``heartbeat`` every few seconds. A run is reported as
``failed`` with error ``"scheduler died"`` when its last heartbeat is older
than the store's threshold, or, sooner, when it was started on this host and
its scheduler's process no longer exists. A run with no process (``pid``
None) is driven by an orchestrator (Argo, Airflow): no stepwell process lives
between its tasks, so no heartbeat judges it; the orchestrator's exit handler
ends it. Nothing is written back: the derivation is repeated on every read.
"""

from __future__ import annotations

import os

SCHEDULER_DIED = "scheduler died"


def local_hostname() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket  # late: only where os.uname is missing (Windows)

    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OverflowError, OSError):
        return False
    return True


def derive_status(
    status: str,
    heartbeat_at: float,
    host: str | None,
    pid: int | None,
    *,
    now: float,
    timeout: float,
    this_host: str,
) -> tuple[str, bool]:
    """The status to report and whether the scheduler is known to be dead."""
    if status != "running" or pid is None:
        return status, False
    if now - heartbeat_at > timeout:
        return "failed", True
    if host == this_host and pid is not None and not pid_alive(pid):
        return "failed", True
    return status, False
