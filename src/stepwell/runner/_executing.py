"""``ExecutingRun``: a run started by a ``Runner``, finished or still going.

The process's two pipes are read into line buffers as the output comes: by two
threads for a blocking ``run()`` (which also echo it when ``show_output`` is on),
by two asyncio tasks for ``async_run()``. ``stream_log`` and ``wait`` read those
buffers, so a stream can be followed several times, from any position.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

STREAMS = ("stdout", "stderr")


class ExecutingRun:
    """A run of a flow in a process of its own.

    Usable as a context manager (``with Runner(...).run() as running:``): on exit,
    the Runner's temporary files are removed, as ``Runner.cleanup()`` does.

    Attributes:
        returncode: the process's exit code, None while it runs.
        status: ``"running"``, ``"successful"`` or ``"failed"``.
        stdout, stderr: what the process printed (all of it once it ended).
        run: the Client API's ``Run`` of this run.
    """

    def __init__(
        self,
        flow_name: str,
        run_id_file: Path,
        process: Any,
        home: str | None,
        metadata: str | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.flow_name = flow_name
        self._run_id_file = run_id_file
        self._process = process
        self._home = home
        self._metadata = metadata
        self._cleanup = cleanup
        self._lines: dict[str, list[str]] = {name: [] for name in STREAMS}
        self._open = set(STREAMS)  # streams whose pipe has not ended yet
        self._changed: asyncio.Event | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._run_id: str | None = None

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> ExecutingRun:
        return self

    def __exit__(self, *exc: object) -> None:
        _ = self.run_id  # keep the id: the file holding it goes with the cleanup
        if self._cleanup is not None:
            self._cleanup()

    async def __aenter__(self) -> ExecutingRun:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    # -- the process -------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        code: int | None = self._process.returncode
        return code

    @property
    def status(self) -> str:
        if self.returncode is None:
            return "running"
        return "successful" if self.returncode == 0 else "failed"

    @property
    def stdout(self) -> str:
        return "".join(self._lines["stdout"])

    @property
    def stderr(self) -> str:
        return "".join(self._lines["stderr"])

    @property
    def run_id(self) -> str | None:
        if self._run_id is None:
            try:
                self._run_id = self._run_id_file.read_text().strip() or None
            except FileNotFoundError:
                return None
        return self._run_id

    @property
    def run(self) -> Any:
        """The Client API's Run (in every namespace: it is this run, whoever started it)."""
        from stepwell.client import Run

        self._check_same_store()
        run_id = self.run_id
        if run_id is None:
            raise RuntimeError(
                f"The run of {self.flow_name} has no id (it failed before it started):\n"
                f"{self.stderr}"
            )
        return Run(f"{self.flow_name}/{run_id}", _namespace_check=False)

    def _check_same_store(self) -> None:
        if self._home is not None and os.environ.get("STEPWELL_HOME") != self._home:
            raise RuntimeError(
                f"This run's store is {self._home} (the Runner's env), but this process reads "
                f"{os.environ.get('STEPWELL_HOME') or '~/.stepwell'}. Set STEPWELL_HOME to the "
                "same directory in this process to read the run back."
            )
        mine = os.environ.get("STEPWELL_METADATA") or "local"
        if self._metadata is not None and self._metadata != mine:
            from stepwell.metadata import redact_url as redact

            raise RuntimeError(
                f"This run was recorded in {redact(self._metadata)} (the Runner's metadata), but "
                f"this process reads {redact(mine)}. Set STEPWELL_METADATA to the same value "
                "in this process to read the run back."
            )

    # -- async ---------------------------------------------------------------------
    async def wait(self, timeout: float | None = None, stream: str | None = None) -> ExecutingRun:
        """Wait for the run to end. After ``timeout`` seconds the run is terminated, as
        Metaflow's Runner does. ``stream="stdout"`` (or ``"stderr"``) prints that
        stream as it comes. Returns this object."""
        if self.returncode is not None and not self._open:  # e.g. a blocking run()
            if stream is not None:
                print(getattr(self, stream), end="", flush=True)
            return self
        self._start_pumps()

        async def finish() -> None:
            if stream is not None:
                async for _, line in self.stream_log(stream):
                    print(line, flush=True)
            await asyncio.gather(*self._pumps)
            await self._process.wait()

        try:
            await asyncio.wait_for(finish(), timeout)
        except asyncio.TimeoutError:
            await self._terminate()
        _ = self.run_id  # read it while its file still exists
        return self

    async def stream_log(
        self, stream: str = "stdout", position: int | None = None
    ) -> AsyncIterator[tuple[int, str]]:
        """Yield ``(position, line)`` for each line of ``stream`` while the run goes.

        ``position`` counts lines from 0: pass the last one seen plus one to go on
        from there in another call. Lines carry no trailing newline.
        """
        if stream not in STREAMS:
            raise ValueError(f"stream_log: stream must be 'stdout' or 'stderr', got {stream!r}.")
        self._start_pumps()
        lines = self._lines[stream]
        index = position or 0
        while True:
            while index < len(lines):
                yield index, lines[index].rstrip("\n")
                index += 1
            if stream not in self._open or self._changed is None:
                return
            self._changed.clear()
            await self._changed.wait()

    def _start_pumps(self) -> None:
        """Read the pipes of an async process into the buffers (once)."""
        if self._pumps or not self._open:
            return
        self._changed = asyncio.Event()
        for name in STREAMS:
            self._pumps.append(asyncio.ensure_future(self._pump(name)))

    async def _pump(self, name: str) -> None:
        pipe = getattr(self._process, name)
        assert self._changed is not None
        while raw := await pipe.readline():
            self._lines[name].append(raw.decode("utf-8", "replace"))
            self._changed.set()
        self._open.discard(name)
        self._changed.set()

    async def _terminate(self) -> None:
        if self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except asyncio.TimeoutError:
                self._process.kill()
                await self._process.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _wait_for_run_id(self, timeout: float) -> None:
        """Return once the run id is known, the process has ended, or ``timeout`` is over."""
        self._start_pumps()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.run_id is None and self._process.returncode is None:
            if loop.time() > deadline:
                raise TimeoutError(
                    f"The run of {self.flow_name} wrote no run id within {timeout:g} s "
                    "(file_read_timeout); it is still going. Pass a larger file_read_timeout."
                )
            await asyncio.sleep(0.01)

    # -- sync ----------------------------------------------------------------------
    def _finish_sync(self, show_output: bool) -> ExecutingRun:
        """Read both pipes until the process ends, echoing them when ``show_output``."""
        readers = [
            threading.Thread(target=self._read_pipe, args=(name, show_output), daemon=True)
            for name in STREAMS
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        self._process.wait()
        _ = self.run_id  # read it while its file still exists
        return self

    def _read_pipe(self, name: str, echo: bool) -> None:
        target: TextIO = sys.stdout if name == "stdout" else sys.stderr
        for line in getattr(self._process, name):
            self._lines[name].append(line)
            if echo:
                target.write(line)
                target.flush()
        self._open.discard(name)

    def __repr__(self) -> str:
        return f"<ExecutingRun {self.flow_name}/{self.run_id or '?'} {self.status}>"


class ExecutingTask(ExecutingRun):
    """A ``spin`` started by ``Runner.spin()``: one step run again in a process of its own.

    Attributes:
        pathspec: the spun task's pathspec: in the spin store with ``persist=True``,
            else the task whose inputs were used.
        task: the Client API's ``Task`` recorded by ``persist=True`` (reading it points
            this process's Client at the spin store, as ``inspect_spin`` does).
    """

    def __init__(
        self, *args: Any, pathspec_file: Path, spin_root: str, persist: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._pathspec_file = pathspec_file
        self._spin_root = spin_root
        self._persist = persist
        self._pathspec: str | None = None

    def __exit__(self, *exc: object) -> None:
        _ = self.pathspec
        super().__exit__(*exc)

    @property
    def pathspec(self) -> str | None:
        if self._pathspec is None:
            try:
                self._pathspec = self._pathspec_file.read_text().strip() or None
            except FileNotFoundError:
                return None
        return self._pathspec

    @property
    def task(self) -> Any:
        from stepwell.client import Task
        from stepwell.client._provider import inspect_spin

        if not self._persist:
            raise RuntimeError(
                "spin() without persist=True records nothing, so there is no task to read; "
                "call Runner(...).spin(step, persist=True)."
            )
        pathspec = self.pathspec
        if pathspec is None:
            raise RuntimeError(f"The spin of {self.flow_name} recorded no task:\n{self.stderr}")
        inspect_spin(self._spin_root)
        return Task(pathspec, _namespace_check=False)

    @property
    def run(self) -> Any:
        return self.task.parent.parent

    def _finish_sync(self, show_output: bool) -> ExecutingTask:
        super()._finish_sync(show_output)
        _ = self.pathspec
        return self

    def __repr__(self) -> str:
        return f"<ExecutingTask {self.pathspec or self.flow_name} {self.status}>"
