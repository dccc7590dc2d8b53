"""Local execution: the scheduler, executors, the task runner, logs and progress.

Rules: the scheduler is a pure state machine (no processes, no clock of its
own); executors share one interface (launch / terminate, one context
object) and are chosen by name from ``EXECUTORS``; a task's blobs are
durable before its result is recorded; the run loop is single-threaded and
sleeps only in ``select``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes
from stepwell.runtime._executor import Executor, ExecutorContext, TaskHandle

if TYPE_CHECKING:
    from stepwell.config import Settings
    from stepwell.runtime._launch import ResumeRequest, start_run
    from stepwell.runtime._logs import log_path, read_log
    from stepwell.runtime._params import resolve_parameters
    from stepwell.runtime._report import Reporter, RichReporter, make_reporter
    from stepwell.runtime._run import LocalRun, RunOptions, RunOutcome
    from stepwell.runtime._scheduler import RetryPolicy, Scheduler
    from stepwell.runtime._spec import Frame, TaskResult, TaskSpec
    from stepwell.runtime._spin import SPIN_DIR, SpinOutcome, SpinRequest, spin_home, spin_task
    from stepwell.runtime._worker import subprocess_main

#: Imported when first used, so a process that needs only the task worker (a step
#: environment's zygote) does not import the run loop.
_LAZY = {
    "ResumeRequest": "_launch", "start_run": "_launch",
    "log_path": "_logs", "read_log": "_logs",
    "resolve_parameters": "_params",
    "Reporter": "_report", "RichReporter": "_report", "make_reporter": "_report",
    "LocalRun": "_run", "RunOptions": "_run", "RunOutcome": "_run",
    "RetryPolicy": "_scheduler", "Scheduler": "_scheduler",
    "Frame": "_spec", "TaskResult": "_spec", "TaskSpec": "_spec",
    "SPIN_DIR": "_spin", "SpinOutcome": "_spin", "SpinRequest": "_spin", "spin_home": "_spin",
    "spin_task": "_spin",
    "subprocess_main": "_worker",
}  # fmt: skip


__getattr__ = lazy_attributes(__name__, _LAZY)


def _fork(settings: Settings) -> Executor:
    from stepwell.runtime._fork import ForkExecutor

    return ForkExecutor()


def _subprocess(settings: Settings) -> Executor:
    from stepwell.runtime._subprocess import SubprocessExecutor

    return SubprocessExecutor()


def _ray(settings: Settings) -> Executor:
    from stepwell.runtime._ray import RayExecutor

    return RayExecutor(address=settings.ray_address)


#: Executors by name, each made from the run's settings; a remote executor registers here.
EXECUTORS: dict[str, Callable[[Settings], Executor]] = {
    "fork": _fork,
    "subprocess": _subprocess,
    "ray": _ray,
}

__all__ = [
    "EXECUTORS",
    "SPIN_DIR",
    "Executor",
    "ExecutorContext",
    "Frame",
    "LocalRun",
    "Reporter",
    "ResumeRequest",
    "RetryPolicy",
    "RichReporter",
    "RunOptions",
    "RunOutcome",
    "Scheduler",
    "SpinOutcome",
    "SpinRequest",
    "TaskHandle",
    "TaskResult",
    "TaskSpec",
    "log_path",
    "make_reporter",
    "read_log",
    "resolve_parameters",
    "spin_home",
    "spin_task",
    "start_run",
    "subprocess_main",
]
