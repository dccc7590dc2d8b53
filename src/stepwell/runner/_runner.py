"""``Runner``: start ``run`` / ``resume`` / ``spin`` of a flow file from Python.

Example:
    >>> with Runner("train.py", show_output=False) as runner:   # doctest: +SKIP
    ...     result = runner.run(alpha=0.1, tags=["nightly"], max_workers=2)
    ...     print(result.status, result.run.data.score)
    >>> with Runner("train.py").run(alpha=0.1) as running:   # doctest: +SKIP
    ...     print(running.run.data.score)
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import ConfigError, StepwellError
from stepwell.runner._executing import ExecutingRun, ExecutingTask
from stepwell.runner._options import CommandOptions


class Runner:
    """Runs a flow file in a process of its own, as Metaflow's ``Runner`` does.

    Args:
        flow_file: the flow's file.
        show_output: print the run's stdout and stderr as they come during a
            blocking ``run()`` / ``resume()`` / ``spin()``.
        profile: Metaflow's configuration profile; stepwell has none, so a value
            other than None is an error saying what to use instead.
        env: extra environment variables for the run (e.g. ``STEPWELL_HOME``).
        cwd: the working directory of the run.
        file_read_timeout: seconds ``async_run()`` waits for the run's id.
        **kwargs: top-level options of ``python flow.py``, e.g. ``metadata="local"``,
            ``datastore="s3"``, ``environment="pypi"``, ``branch="x"``, ``pylint=False``,
            ``decospecs=["retry"]`` (or ``with_=``), ``config=[("cfg", "cfg.json")]``,
            ``config_value=[("cfg", {"alpha": 1})]``.
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        file_read_timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        self.cwd = str(cwd) if cwd is not None else None
        file = Path(self.cwd or ".", flow_file) if not Path(flow_file).is_absolute() else None
        self.flow_file = Path(flow_file).resolve()
        if not self.flow_file.is_file() and file is not None and file.is_file():
            self.flow_file = file.resolve()
        if not self.flow_file.is_file():
            raise StepwellError(f"Runner: flow file {str(flow_file)!r} does not exist.")
        if profile is not None:
            raise ConfigError(
                f"Runner(profile={profile!r}): stepwell has no configuration profiles. "
                "Give the settings to the run instead: env={'STEPWELL_HOME': ...}, a "
                "stepwell.toml in cwd=, or top-level options such as metadata= and datastore=."
            )
        self.show_output = show_output
        self.env = {**os.environ, **(env or {})}
        self.file_read_timeout = file_read_timeout
        self.top_level = kwargs
        self._tmp = tempfile.TemporaryDirectory(prefix="stepwell-runner-")
        self._flow_cls: Any = None
        self._calls = 0
        self._on_cleanup: list[Callable[[], None]] = []
        self._top_words = self._options(None).argv(kwargs)  # a bad keyword fails here

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the Runner's temporary files (done on exit of a ``with`` block)."""
        self._tmp.cleanup()
        for callback in self._on_cleanup:
            callback()

    # -- public --------------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow and wait for the end; keywords are parameters or run options."""
        return self._start_sync("run", [], kwargs)

    def resume(self, step: str | None = None, **kwargs: Any) -> ExecutingRun:
        """Resume the latest run (``origin_run_id=`` another), from ``step`` if given."""
        return self._start_sync("resume", *self._resume_args(step, kwargs))

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start the run; return once its id is known. ``await result.wait()`` to wait."""
        return await self._start_async("run", [], kwargs)

    async def async_resume(self, step: str | None = None, **kwargs: Any) -> ExecutingRun:
        """``resume()`` without waiting for the end."""
        return await self._start_async("resume", *self._resume_args(step, kwargs))

    def spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        """Run one step again with the inputs it had (``spin``) and wait for the end.

        ``pathspec`` is ``STEP``, ``RUN/STEP`` or ``RUN/STEP/TASK``; keywords are
        ``persist=``, ``artifacts_module=``, ``skip_decorators=``. With
        ``persist=True`` the result's ``.task`` is the recorded task.
        """
        argv, run_id_file, extra = self._spin_argv(pathspec, kwargs)
        process = subprocess.Popen(
            argv, env=self.env, cwd=self.cwd, text=True, errors="replace",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        spun = ExecutingTask(
            self.flow_name, run_id_file, process, self.env.get("STEPWELL_HOME"),
            self._metadata, cleanup=self.cleanup, **extra,
        )  # fmt: skip
        return spun._finish_sync(self.show_output)

    async def async_spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        """``spin()`` without waiting: ``await result.wait()`` to wait for the end."""
        argv, run_id_file, extra = self._spin_argv(pathspec, kwargs)
        process = await asyncio.create_subprocess_exec(
            *argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        spun = ExecutingTask(
            self.flow_name, run_id_file, process, self.env.get("STEPWELL_HOME"),
            self._metadata, cleanup=self.cleanup, **extra,
        )  # fmt: skip
        spun._start_pumps()
        return spun

    # -- internals -----------------------------------------------------------------
    def _spin_argv(
        self, pathspec: str, kwargs: Mapping[str, Any]
    ) -> tuple[list[str], Path, dict[str, Any]]:
        argv, run_id_file = self._argv("spin", [str(pathspec)], kwargs)
        pathspec_file = run_id_file.with_name(run_id_file.name.replace("run-id", "task"))
        extra = {
            "pathspec_file": pathspec_file,
            "spin_root": self.cwd or os.getcwd(),
            "persist": bool(kwargs.get("persist")),
        }
        return [*argv, "--task-pathspec-file", str(pathspec_file)], run_id_file, extra

    @property
    def flow_cls(self) -> Any:
        if self._flow_cls is None:
            from stepwell.flow import load_flow_class

            self._flow_cls = load_flow_class(self.flow_file)
        return self._flow_cls

    @property
    def flow_name(self) -> str:
        return str(self.flow_cls.__name__)

    def _options(self, command: str | None) -> CommandOptions:
        """The options of the flow's command line at the top level, or of ``command``.

        The flow's click command line is the specification of the keywords. It lives in
        a higher layer, reached by name as ``FlowSpec`` reaches it to run a flow.
        """
        flowcli = importlib.import_module("stepwell.cli._flowcli")
        group = flowcli.build_cli(self.flow_cls)
        if command is None:
            return CommandOptions(group.params, "of Runner() (top-level options)")
        return CommandOptions(group.commands[command].params, f"of Runner.{command}()")

    @staticmethod
    def _resume_args(step: str | None, kwargs: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """The step (``step_to_rerun=`` in Metaflow) is the command's argument."""
        kwargs = dict(kwargs)
        step = step or kwargs.pop("step_to_rerun", None)
        return ([str(step)] if step else []), kwargs

    def _argv(
        self, command: str, arguments: list[str], kwargs: Mapping[str, Any]
    ) -> tuple[list[str], Path]:
        words = self._options(command).argv(kwargs)
        self._calls += 1
        run_id_file = Path(self._tmp.name) / f"run-id-{self._calls}"
        argv = [sys.executable, str(self.flow_file), *self._top_words, command, *arguments]
        return [*argv, *words, "--run-id-file", str(run_id_file)], run_id_file

    @property
    def _metadata(self) -> str | None:
        """Where the run is recorded, when the Runner was told (option or env)."""
        value = self.top_level.get("metadata") or self.env.get("STEPWELL_METADATA")
        return str(value) if value else None

    def _executing(self, process: Any, run_id_file: Path) -> ExecutingRun:
        home = self.env.get("STEPWELL_HOME")
        return ExecutingRun(
            self.flow_name, run_id_file, process, home, self._metadata, cleanup=self.cleanup
        )

    def _start_sync(
        self, command: str, arguments: list[str], kwargs: Mapping[str, Any]
    ) -> ExecutingRun:
        argv, run_id_file = self._argv(command, arguments, kwargs)
        process = subprocess.Popen(
            argv, env=self.env, cwd=self.cwd, text=True, errors="replace",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        return self._executing(process, run_id_file)._finish_sync(self.show_output)

    async def _start_async(
        self, command: str, arguments: list[str], kwargs: Mapping[str, Any]
    ) -> ExecutingRun:
        argv, run_id_file = self._argv(command, arguments, kwargs)
        process = await asyncio.create_subprocess_exec(
            *argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        executing = self._executing(process, run_id_file)
        await executing._wait_for_run_id(self.file_read_timeout)
        return executing
