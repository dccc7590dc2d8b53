"""What the user sees while a run goes: task logs, failures, progress, the final line.

``PlainReporter`` writes lines (CI logs, pipes, ``--quiet``); ``RichReporter``
adds a live table of steps on a terminal. Both get the same calls from the
run loop and never block it: the live table is refreshed from the loop, at
most ``refresh_interval`` apart, with no thread of its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import IO, Any

from stepwell.runtime._spec import TaskResult, TaskSpec

_DETAIL_LIMIT = 8  # per-task lines for a step's first tasks; then aggregated progress


def _write(stream: IO[str], emit: Callable[[], None]) -> None:
    """Write with ``emit``; a reader that went away (``| head``) never fails the run.

    On a broken pipe the stream's descriptor is pointed at /dev/null, so later
    writes, and Python's flush at exit, are silently dropped.
    """
    try:
        emit()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass  # a stream without a descriptor (tests): nothing more to silence


class Reporter:
    """Plain-text progress; the base of the rich one."""

    refresh_interval = 2.0

    def __init__(
        self, out: IO[str] | None = None, err: IO[str] | None = None, quiet: bool = False
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet
        self.launched: dict[str, int] = defaultdict(int)
        self.done: dict[str, int] = defaultdict(int)
        self.failed: dict[str, int] = defaultdict(int)
        self.expected: dict[str, int] = defaultdict(int)  # foreach steps: tasks to come
        self.cloned = 0
        self._last_progress = 0.0
        self.flow_name = ""

    def status(self, text: str) -> None:
        _write(self.err, lambda: print(text, file=self.err, flush=True))

    def log_line(self, stream: str, line: str) -> None:
        if not self.quiet:
            target = self.out if stream == "stdout" else self.err
            _write(target, lambda: print(line, file=target, flush=True))

    def run_started(self, flow_name: str, run_id: str, user: str) -> None:
        self.flow_name = flow_name
        if not self.quiet:
            self.status(f"Run {flow_name}/{run_id} started by {user}.")

    def task_launched(self, spec: TaskSpec) -> None:
        self.launched[spec.step_name] += 1
        if spec.attempt == 0 and spec.frames:
            frame = spec.frames[-1]
            if frame.kind != "split" and frame.index == 0:  # a new fan-out: its width is known
                self.expected[spec.step_name] += frame.width

    def task_succeeded(self, spec: TaskSpec, result: TaskResult) -> None:
        self.done[spec.step_name] += 1
        if not self.quiet and self.done[spec.step_name] <= _DETAIL_LIMIT:
            took = result.finished_at - result.started_at
            self.status(f"[{spec.run_id}/{spec.step_name}/{spec.task_id}] done ({took:.2f}s)")

    def task_cloned(self, spec: TaskSpec, result: TaskResult) -> None:
        """resume reused ``result.origin_pathspec`` for this task."""
        self.launched[spec.step_name] += 1
        self.done[spec.step_name] += 1
        self.cloned += 1

    def task_failed(
        self, spec: TaskSpec, result: TaskResult, retrying: bool, caught: bool = False
    ) -> None:
        """A failed attempt; ``retrying``: another attempt follows (``caught``: the @catch one)."""
        if not retrying:
            self.failed[spec.step_name] += 1
        prefix = f"[{spec.run_id}/{spec.step_name}/{spec.task_id}]"
        what = "failed"
        if retrying:
            what = "failed; @catch lets the run go on" if caught else "failed, will retry"
        self.status(
            f"{prefix} {what} (attempt {spec.attempt}): {result.exception_type}: {result.exception}"
        )
        if result.traceback and not retrying:
            for line in result.traceback.rstrip().splitlines():
                self.status(f"{prefix}   {line}")

    def tick(self, counts: Any, running: int) -> None:
        now = time.monotonic()
        if self.quiet or now - self._last_progress < self.refresh_interval:
            return
        self._last_progress = now
        busy = [s for s in self.launched if self.done[s] + self.failed[s] < self.launched[s]]
        for step in busy:
            if self.launched[step] > _DETAIL_LIMIT:
                of = f" of {self.expected[step]}" if self.expected[step] else ""
                self.status(
                    f"  {step}: {self.done[step]}{of} done, "
                    f"{self.launched[step] - self.done[step] - self.failed[step]} running, "
                    f"{self.failed[step]} failed"
                )

    def run_finished(self, outcome: Any) -> None:
        total = sum(self.done.values())
        name = f"{self.flow_name}/{outcome.run_id}"
        if outcome.ok:
            if not self.quiet:
                reused = f" ({self.cloned} reused from the origin run)" if self.cloned else ""
                self.status(
                    f"Run {name} succeeded: {total} tasks{reused} in {outcome.seconds:.2f}s."
                )
            return
        if outcome.failures:
            spec, result = outcome.failures[0]
            self.status(
                f"Run {name} failed: task {spec.pathspec} raised "
                f"{result.exception_type}: {result.exception}"
            )
        else:
            self.status(f"Run {name} failed.")


class RichReporter(Reporter):
    """A live table of steps on a terminal, above which logs and failures scroll."""

    refresh_interval = 0.1

    def __init__(self, quiet: bool = False) -> None:
        super().__init__(quiet=quiet)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self._live = Live(console=self.console, auto_refresh=False, transient=True)
        self._started = time.monotonic()

    def status(self, text: str) -> None:
        _write(sys.stderr, lambda: self.console.print(text, markup=False, highlight=False))

    def log_line(self, stream: str, line: str) -> None:
        if not self.quiet:
            _write(sys.stderr, lambda: self.console.print(line, markup=False, highlight=False))

    def run_started(self, flow_name: str, run_id: str, user: str) -> None:
        super().run_started(flow_name, run_id, user)
        self._live.start()

    def task_succeeded(self, spec: TaskSpec, result: TaskResult) -> None:
        self.done[spec.step_name] += 1

    def tick(self, counts: Any, running: int) -> None:
        now = time.monotonic()
        if now - self._last_progress < self.refresh_interval:
            return
        self._last_progress = now
        self._live.update(self._table(), refresh=True)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(
            title=f"{self.flow_name}  {time.monotonic() - self._started:.1f}s",
            title_justify="left",
            box=None,
        )
        for column in ("step", "done", "running", "failed"):
            table.add_column(column, justify="left" if column == "step" else "right")
        for step, launched in self.launched.items():
            running = launched - self.done[step] - self.failed[step]
            done = str(self.done[step])
            if self.expected[step]:
                done += f" / {self.expected[step]}"
            table.add_row(step, done, str(running), str(self.failed[step]))
        return table

    def run_finished(self, outcome: Any) -> None:
        self._live.stop()
        super().run_finished(outcome)


def make_reporter(quiet: bool = False) -> Reporter:
    """Rich progress on an interactive terminal, plain lines elsewhere."""
    if sys.stderr.isatty() and not quiet:
        return RichReporter(quiet=quiet)
    return Reporter(quiet=quiet)
