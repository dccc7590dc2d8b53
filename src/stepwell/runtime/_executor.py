"""The executor interface: launch, poll, terminate — and what a launched task looks like.

An executor turns a :class:`TaskSpec` into a running attempt somewhere and
tells the event loop when it ended. Every executor hands back the same
:class:`TaskHandle`: three pipes the loop reads (stdout, stderr, the pickled
result) and, once known, the exit status. New executors (Ray, Kubernetes)
are modules of their own registered by name in ``EXECUTORS``.
"""

from __future__ import annotations

import abc
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stepwell.runtime._context import RunInfo, WorkerContext
from stepwell.runtime._spec import TaskSpec


@dataclass
class TaskHandle:
    """One launched attempt, as the event loop tracks it."""

    spec: TaskSpec
    stdout_fd: int
    stderr_fd: int
    result_fd: int
    pid: int | None = None
    exit_status: int | None = None  # os.waitstatus_to_exitcode() form; None while running
    result_bytes: bytearray = field(default_factory=bytearray)
    open_fds: set[int] = field(default_factory=set)
    launched_at: float = 0.0
    timed_out: bool = False  # stopped by the run loop for running past its @timeout

    @property
    def finished(self) -> bool:
        return self.exit_status is not None and not self.open_fds


@dataclass
class ExecutorContext:
    """What an executor gets from the runtime: the loop to register with, and the run."""

    add_reader: Callable[[int, Callable[[], None]], None]
    remove_reader: Callable[[int], None]
    on_exit: Callable[[TaskHandle, int], None]  # (handle, exit code)
    worker: WorkerContext
    info: RunInfo
    extra: dict[str, Any] = field(default_factory=dict)


class Executor(abc.ABC):
    """Runs task attempts. ``start`` once, ``launch`` per attempt, ``close`` at the end."""

    name = ""
    #: A cluster executor places each task by its @resources itself (tasks wait there
    #: for capacity); the run then holds none back for this machine's CPUs and memory.
    places_by_resources = False
    #: Its workers build the steps' @pypi / @conda environments themselves (from the locks
    #: in the code package); otherwise such steps run here, in environments built here.
    handles_environments = False

    def default_max_workers(self) -> int | None:
        """Tasks in flight when --max-workers is not given (None: this machine's CPUs).

        Asked after ``start``, so a cluster executor can answer from the cluster.
        """
        return None

    @abc.abstractmethod
    def start(self, ctx: ExecutorContext) -> None:
        """Prepare to launch (called before the run opens threads or connections)."""

    @abc.abstractmethod
    def launch(self, spec: TaskSpec) -> TaskHandle:
        """Start one attempt; the pipes in the handle are the loop's to read and close."""

    @abc.abstractmethod
    def terminate(self, handle: TaskHandle, sig: int = signal.SIGTERM) -> None:
        """Signal the attempt's process group."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start`` acquired."""


def new_pipes() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(read, write) pairs for stdout, stderr and the result; read ends non-inheritable."""
    return os.pipe(), os.pipe(), os.pipe()


def signal_group(pid: int | None, sig: int) -> None:
    """Send ``sig`` to a task's process group (each task leads its own)."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
