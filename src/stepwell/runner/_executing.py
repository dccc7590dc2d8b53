"""``ExecutingRun``: a run started by a ``Runner``, finished or still going."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


class ExecutingRun:
    """A run of a flow in a process of its own.

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
    ) -> None:
        self.flow_name = flow_name
        self._run_id_file = run_id_file
        self._process = process
        self._home = home
        self._metadata = metadata
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._run_id: str | None = None
        self._readers: dict[Any, tuple[Any, list[str]]] | None = None

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
        return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

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
        run_id = self.run_id
        if run_id is None:
            raise RuntimeError(
                f"The run of {self.flow_name} has no id (it failed before it started):\n"
                f"{self.stderr}"
            )
        return Run(f"{self.flow_name}/{run_id}", _namespace_check=False)

    # -- async ---------------------------------------------------------------------
    async def wait(self, timeout: float | None = None, stream: str | None = None) -> ExecutingRun:
        """Wait for the run to end, at most ``timeout`` seconds (``asyncio.TimeoutError``
        after that; the run goes on). ``stream="stdout"`` echoes it as it comes."""
        echo = {"stdout": self._stdout, "stderr": self._stderr}.get(stream or "")

        async def drain() -> None:
            async for buffer, line in self._lines():
                if buffer is echo:
                    print(line, end="", flush=True)
            await self._process.wait()

        await asyncio.wait_for(drain(), timeout)
        _ = self.run_id  # read it while its file still exists
        return self

    async def stream_log(self, stream: str = "stdout") -> AsyncIterator[str]:
        """Yield the run's ``stream`` line by line while it runs."""
        target = {"stdout": self._stdout, "stderr": self._stderr}[stream]
        async for buffer, line in self._lines():
            if buffer is target:
                yield line.rstrip("\n")

    async def _lines(self) -> AsyncIterator[tuple[list[str], str]]:
        """Lines from both pipes as they come. The pending reads live on the object, so
        a wait() that timed out leaves them for the next call to pick up."""
        if self._readers is None:
            sources = ((self._process.stdout, self._stdout), (self._process.stderr, self._stderr))
            self._readers = {
                asyncio.ensure_future(src.readline()): (src, buf) for src, buf in sources
            }
        readers = self._readers
        while readers:
            done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                source, buffer = readers.pop(future)
                raw = future.result()
                if not raw:
                    continue
                text = raw.decode("utf-8", "replace")
                buffer.append(text)
                readers[asyncio.ensure_future(source.readline())] = (source, buffer)
                yield buffer, text

    # -- sync ----------------------------------------------------------------------
    def _finish_sync(self, show_output: bool) -> ExecutingRun:
        process: subprocess.Popen[str] = self._process
        out, err = process.communicate()
        _ = self.run_id  # read it while its file still exists
        self._stdout.append(out)
        self._stderr.append(err)
        if show_output:
            print(out, end="")
            print(err, end="", flush=True)
        return self

    def __repr__(self) -> str:
        return f"<ExecutingRun {self.flow_name}/{self.run_id or '?'} {self.status}>"
