"""The ``subprocess`` executor: a fresh interpreter per task.

For steps that need their own interpreter (per-step environments) and for
platforms without ``fork``. The child runs ``python -m stepwell.cli _task
<flow file>``, which executes the flow file as ``__main__`` (so pickled
classes resolve the same way as in forked tasks), with or without an
``if __name__ == "__main__"`` block. Exit is observed through a pidfd where the OS has one.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys

from stepwell.exceptions import ExecutorError
from stepwell.runtime._executor import (
    Executor,
    ExecutorContext,
    TaskHandle,
    new_pipes,
    signal_group,
)
from stepwell.runtime._spec import TaskSpec
from stepwell.runtime._worker import RESULT_FD_ENV


class SubprocessExecutor(Executor):
    """One new Python process per task attempt."""

    name = "subprocess"

    def __init__(self, python: str | None = None, env: dict[str, str] | None = None) -> None:
        self._python = python or sys.executable
        self._env = env  # the process environment of each task (default: this process's)
        self._ctx: ExecutorContext | None = None
        self._procs: dict[int, tuple[subprocess.Popen[bytes], TaskHandle]] = {}

    def start(self, ctx: ExecutorContext) -> None:
        if not ctx.info.flow_file:
            raise ExecutorError("The subprocess executor needs the flow's file path.")
        if not hasattr(os, "pidfd_open"):
            raise ExecutorError("The subprocess executor needs Linux pidfd support (kernel 5.3+).")
        self._ctx = ctx

    def launch(self, spec: TaskSpec) -> TaskHandle:
        assert self._ctx is not None
        ctx = self._ctx
        # the step's decorators as this run resolved them (configs, --with, mutators):
        # the child rebuilds the graph from the flow file, which has none of that
        decorators = ctx.worker.graph[spec.step_name].decorators
        try:
            payload = pickle.dumps((spec, ctx.info, decorators), protocol=5)
        except Exception as exc:
            raise ExecutorError(
                f"The subprocess executor cannot send the decorators of step "
                f"'{spec.step_name}' to its task ({type(exc).__name__}: {exc}); use the fork "
                "executor, or decorators defined at module level."
            ) from None
        (out_r, out_w), (err_r, err_w), (res_r, res_w) = new_pipes()
        env = {**(self._env if self._env is not None else os.environ), RESULT_FD_ENV: str(res_w)}
        try:
            proc = subprocess.Popen(
                [self._python, "-m", "stepwell.cli", "_task", ctx.info.flow_file],
                stdin=subprocess.PIPE,
                stdout=out_w,
                stderr=err_w,
                pass_fds=(res_w,),
                env=env,
                start_new_session=True,  # its own process group, like forked tasks
            )
        finally:
            for fd in (out_w, err_w, res_w):
                os.close(fd)
        handle = TaskHandle(spec, out_r, err_r, res_r, pid=proc.pid, open_fds={out_r, err_r, res_r})
        assert proc.stdin is not None
        try:
            proc.stdin.write(payload)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once; its exit is reported through the pidfd
        pidfd = os.pidfd_open(proc.pid)
        self._procs[pidfd] = (proc, handle)
        ctx.add_reader(pidfd, lambda fd=pidfd: self._on_exit(fd))  # type: ignore[misc]
        return handle

    def _on_exit(self, pidfd: int) -> None:
        assert self._ctx is not None
        proc, handle = self._procs.pop(pidfd)
        self._ctx.remove_reader(pidfd)
        os.close(pidfd)
        self._ctx.on_exit(handle, proc.wait())

    def terminate(self, handle: TaskHandle, sig: int = signal.SIGTERM) -> None:
        signal_group(handle.pid, sig)

    def close(self) -> None:
        for pidfd, (proc, _handle) in list(self._procs.items()):
            proc.kill()
            proc.wait()
            os.close(pidfd)
        self._procs.clear()
