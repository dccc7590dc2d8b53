"""``Runner``: start ``run`` / ``resume`` of a flow file from Python.

Example:
    >>> with Runner("train.py", alpha=0.1) as runner:   # doctest: +SKIP
    ...     result = runner.run(epochs=3)
    ...     print(result.status, result.run.data.score)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import StepwellError
from stepwell.runner._executing import ExecutingRun


def _flag(name: str) -> str:
    """A run option as a command-line option: ``max_workers`` -> ``--max-workers``."""
    return "--" + name.rstrip("_").replace("_", "-")


def _option(name: str, value: Any, flag: str | None = None) -> list[str]:
    """One keyword argument as command-line words (True: a flag; lists: repeated)."""
    flag = flag or _flag(name)
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if isinstance(value, (list, tuple)) and name in ("tags", "with_"):
        words = []
        for item in value:
            words += ["--tag" if name == "tags" else "--with", str(item)]
        return words
    if isinstance(value, (dict, list, tuple)):
        return [flag, json.dumps(value)]
    return [flag, str(value)]


class Runner:
    """Runs a flow file in a process of its own.

    Args:
        flow_file: the flow's file.
        show_output: echo the run's output as ``run()``/``resume()`` return.
        env: extra environment variables for the run (e.g. ``STEPWELL_HOME``).
        cwd: the working directory of the run.
        **top_level_options: options before the command, e.g. ``branch="x"``,
            ``with_=["retry"]``, ``config={"name": "file.json"}`` becomes ``--config``.
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        **top_level_options: Any,
    ) -> None:
        self.flow_file = Path(flow_file).resolve()
        if not self.flow_file.is_file():
            raise StepwellError(f"Runner: flow file {str(flow_file)!r} does not exist.")
        self.show_output = show_output
        self.env = {**os.environ, **(env or {})}
        self.cwd = str(cwd) if cwd is not None else None
        self.top_level = top_level_options
        self._tmp = tempfile.TemporaryDirectory(prefix="stepwell-runner-")
        self._flow_name: str | None = None
        self._calls = 0
        self._parameter_names: dict[str, str] | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        self._tmp.cleanup()

    # -- public --------------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow; keyword arguments are parameters or run options. Blocks."""
        return self._start_sync(["run"], kwargs)

    def resume(self, step: str | None = None, origin_run_id: str | None = None,
               **kwargs: Any) -> ExecutingRun:  # fmt: skip
        """Resume the latest (or ``origin_run_id``) run, from ``step`` if given. Blocks."""
        return self._start_sync(self._resume_words(step, origin_run_id), kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start the run and return at once; ``await result.wait()`` to wait."""
        return await self._start_async(["run"], kwargs)

    async def async_resume(self, step: str | None = None, origin_run_id: str | None = None,
                           **kwargs: Any) -> ExecutingRun:  # fmt: skip
        return await self._start_async(self._resume_words(step, origin_run_id), kwargs)

    # -- internals -----------------------------------------------------------------
    @property
    def flow_name(self) -> str:
        if self._flow_name is None:
            from stepwell.flow import load_flow_class

            self._flow_name = load_flow_class(self.flow_file).__name__
        return self._flow_name

    @staticmethod
    def _resume_words(step: str | None, origin_run_id: str | None) -> list[str]:
        words = ["resume", *([step] if step else [])]
        return words + (["--origin-run-id", origin_run_id] if origin_run_id else [])

    def _argv(self, command: list[str], kwargs: Mapping[str, Any]) -> tuple[list[str], Path]:
        self._calls += 1
        run_id_file = Path(self._tmp.name) / f"run-id-{self._calls}"
        argv = [sys.executable, str(self.flow_file)]
        for name, value in self.top_level.items():
            if name == "config" and isinstance(value, Mapping):
                for config_name, path in value.items():
                    argv += ["--config", config_name, str(path)]
            else:
                argv += _option(name, value)
        argv += [*command, "--run-id-file", str(run_id_file)]
        for name, value in kwargs.items():
            argv += _option(name, value, self._parameter_flag(name))
        return argv, run_id_file

    def _parameter_flag(self, name: str) -> str | None:
        """``--<name>`` exactly as the flow declares the parameter (or its attribute) ``name``."""
        if self._parameter_names is None:
            from stepwell.flow import load_flow_class

            declared = load_flow_class(self.flow_file)._sw_parameters()
            self._parameter_names = {p.name: p.name for p in declared.values()}
            self._parameter_names.update({attr: p.name for attr, p in declared.items()})
        found = self._parameter_names.get(name)
        return f"--{found}" if found else None

    @property
    def _metadata(self) -> str | None:
        """Where the run is recorded, when the Runner was told (option or env)."""
        value = self.top_level.get("metadata") or self.env.get("STEPWELL_METADATA")
        return str(value) if value else None

    def _start_sync(self, command: list[str], kwargs: Mapping[str, Any]) -> ExecutingRun:
        argv, run_id_file = self._argv(command, kwargs)
        process = subprocess.Popen(
            argv, env=self.env, cwd=self.cwd, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        home = self.env.get("STEPWELL_HOME")
        started = ExecutingRun(self.flow_name, run_id_file, process, home, self._metadata)
        return started._finish_sync(self.show_output)

    async def _start_async(self, command: list[str], kwargs: Mapping[str, Any]) -> ExecutingRun:
        argv, run_id_file = self._argv(command, kwargs)
        process = await asyncio.create_subprocess_exec(
            *argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        home = self.env.get("STEPWELL_HOME")
        return ExecutingRun(self.flow_name, run_id_file, process, home, self._metadata)
