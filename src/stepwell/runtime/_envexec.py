"""Tasks of @pypi / @conda steps: run in their environment's interpreter, still forked.

:class:`EnvironmentZygote` is the fork executor with a zygote started as a
fresh interpreter of the environment (``ENV/bin/python -m
stepwell.runtime._envmain FLOW_FILE``): it imports the flow there once, then forks one child
per task exactly as the run's own zygote does, so a foreach in a @pypi step
costs milliseconds per task. The environment sees stepwell through a folder
on its ``PYTHONPATH`` holding only a link to this stepwell, and nothing else
of the run's interpreter.

:class:`StepEnvironments` is the run's executor when some steps have an
environment: it sends each task to its step's executor (an environment's
zygote, or a subprocess per task under ``--executor subprocess``) and every
other task to the run's own executor.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, NoReturn

from stepwell.exceptions import ExecutorError
from stepwell.runtime._executor import Executor, ExecutorContext, TaskHandle
from stepwell.runtime._fork import ForkExecutor, zygote_main
from stepwell.runtime._spec import TaskSpec

ZYGOTE_FD_ENV = "STEPWELL_ZYGOTE_FD"


def environment_variables(environment: Any, shim: Path) -> dict[str, str]:
    """The process environment of an environment's interpreter: its own, plus this stepwell."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "__PYVENV_LAUNCHER__")}
    path = str(environment.path)
    env["VIRTUAL_ENV"] = path
    env["PATH"] = os.pathsep.join([f"{path}/bin", os.environ.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH")) if p)
    env["PYTHONNOUSERSITE"] = "1"  # ~/.local's packages are not the environment's
    env["STEPWELL_ENVIRONMENT"] = environment.key
    return env


class EnvironmentZygote(ForkExecutor):
    """A fork executor whose zygote runs in a step environment's interpreter."""

    def __init__(self, environment: Any, steps: list[str], shim: Path) -> None:
        super().__init__()
        self.environment = environment
        self.steps = steps
        self._shim = shim
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def _spawn(self, ctx: ExecutorContext) -> socket.socket:
        decorators = {node.name: node.decorators for node in ctx.worker.graph}
        try:
            payload = pickle.dumps(
                (decorators, ctx.info.metadata, ctx.info.datastore_url), protocol=5
            )
        except Exception as exc:
            raise ExecutorError(
                f"The decorators of this flow cannot be sent to the environment of "
                f"{self._names()} ({type(exc).__name__}: {exc}); define decorators at module "
                "level."
            ) from None
        parent_sock, zygote_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = environment_variables(self.environment, self._shim)
        env[ZYGOTE_FD_ENV] = str(zygote_sock.fileno())
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - kept open until close()
        try:
            self._proc = subprocess.Popen(
                [self.environment.python, "-m", "stepwell.runtime._envmain", ctx.info.flow_file],
                stdin=subprocess.PIPE,
                stderr=self._errors,
                pass_fds=(zygote_sock.fileno(),),
                env=env,
            )
        finally:
            zygote_sock.close()
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(payload)
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: the closed socket says so, with its error output
        return parent_sock

    def _wait_zygote(self) -> None:
        if self._proc is not None:
            self._proc.wait()
            self._proc = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def _zygote_died(self) -> ExecutorError:
        output = ""
        if self._proc is not None and self._errors is not None:
            self._proc.wait()
            self._errors.seek(0)
            output = self._errors.read().decode(errors="replace")[-4000:].strip()
        shown = "\n".join(f"    {line}" for line in output.splitlines()[-25:])
        return ExecutorError(
            f"The environment of {self._names()} ({self.environment.path}) could not start "
            f"the flow:\n{shown or '    (no output)'}\n  A module the flow file imports at its "
            "top must be in that environment too: add it to the step's @pypi packages, or "
            "import it inside the steps that use it."
        )

    def _names(self) -> str:
        quoted = ", ".join(f"'{s}'" for s in self.steps)
        return f"step {quoted}" if len(self.steps) == 1 else f"steps {quoted}"


class StepEnvironments(Executor):
    """Each task to its step's executor; tasks of steps without an environment to ``base``."""

    def __init__(self, base: Executor, by_step: dict[str, Executor]) -> None:
        self.base = base
        self.by_step = by_step
        self.name = base.name
        self._all = [base, *{id(e): e for e in by_step.values()}.values()]

    def start(self, ctx: ExecutorContext) -> None:
        started = []
        try:
            for executor in self._all:  # the base first: it forks before anything else runs
                executor.start(ctx)
                started.append(executor)
        except BaseException:
            for executor in started:
                executor.close()
            raise

    def launch(self, spec: TaskSpec) -> TaskHandle:
        return self.by_step.get(spec.step_name, self.base).launch(spec)

    def terminate(self, handle: TaskHandle, sig: int = signal.SIGTERM) -> None:
        self.by_step.get(handle.spec.step_name, self.base).terminate(handle, sig)

    def close(self) -> None:
        for executor in self._all:
            executor.close()


def with_environments(base: Executor, environments: dict[str, Any], shim: Path | None) -> Executor:
    """``base``, or a :class:`StepEnvironments` around it when steps have environments."""
    if not environments or shim is None:
        return base
    from stepwell.runtime._subprocess import SubprocessExecutor

    executors: dict[str, Executor] = {}
    by_key: dict[str, Executor] = {}
    for step, environment in environments.items():
        if environment.key not in by_key:
            steps = [s for s, e in environments.items() if e.key == environment.key]
            by_key[environment.key] = (
                SubprocessExecutor(environment.python, environment_variables(environment, shim))
                if base.name == "subprocess"
                else EnvironmentZygote(environment, steps, shim)
            )
        executors[step] = by_key[environment.key]
    return StepEnvironments(base, executors)


def environment_zygote_main(flow_cls: Any) -> NoReturn:
    """The zygote of a step environment, in its interpreter (see ``_envmain``)."""
    from stepwell.graph import build_graph
    from stepwell.runtime._context import RunInfo, WorkerContext
    from stepwell.runtime._worker import preload_task_modules

    decorators, metadata, datastore = pickle.load(sys.stdin.buffer)
    graph = build_graph(flow_cls)
    for node in graph:
        if node.name in decorators:
            node.decorators = decorators[node.name]
    preload_task_modules(metadata, datastore)
    sock = socket.socket(fileno=int(os.environ.pop(ZYGOTE_FD_ENV)))
    placeholder = RunInfo(flow_cls.__name__, "", "", "", None)  # the "init" message replaces it
    code = 0
    try:
        zygote_main(sock, WorkerContext(info=placeholder, flow_cls=flow_cls, graph=graph))
    except BaseException:
        code = 1
    finally:
        sys.stdout.flush()
        os._exit(code)


def run_task_in_environment(
    environment: Any, shim: Path, spec: TaskSpec, info: Any, decorators: tuple[Any, ...]
) -> Any:
    """One task in the environment's interpreter, its output on this terminal (``spin``)."""
    import time

    from stepwell.runtime._spec import TaskResult
    from stepwell.runtime._worker import RESULT_FD_ENV

    started = time.time()
    read_end, write_end = os.pipe()
    env = {**environment_variables(environment, shim), RESULT_FD_ENV: str(write_end)}
    try:
        proc = subprocess.Popen(
            [environment.python, "-m", "stepwell.cli", "_task", info.flow_file],
            stdin=subprocess.PIPE, pass_fds=(write_end,), env=env,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.stdin is not None
    try:
        proc.stdin.write(pickle.dumps((spec, info, decorators), protocol=5))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    with os.fdopen(read_end, "rb") as results:
        payload = results.read()
    code = proc.wait()
    if payload:
        return pickle.loads(payload)
    return TaskResult.crashed(spec, code, started=started, at=time.time())
