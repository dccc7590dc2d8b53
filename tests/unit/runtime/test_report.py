"""What the run prints: plain lines (pipes, CI, --quiet) and the live table on a terminal."""

from __future__ import annotations

import io

from stepwell.runtime import Frame, Reporter, RichReporter, TaskResult, TaskSpec
from stepwell.runtime._run import RunOutcome


def _spec(step: str, task: str, frames: tuple[Frame, ...] = ()) -> TaskSpec:
    return TaskSpec("F", "7", step, task, frames=frames)


def _plain(quiet: bool = False) -> tuple[Reporter, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Reporter(out=out, err=err, quiet=quiet), out, err


def test_plain_reporter_prints_logs_failures_and_the_result() -> None:
    reporter, out, err = _plain()
    reporter.run_started("F", "7", "ana")
    spec = _spec("train", "3")
    reporter.task_launched(spec)
    reporter.log_line("stdout", "[7/train/3] hello")
    tb = "Traceback (most recent call last):\nValueError: bad\n"
    failed = TaskResult(
        "3", 0, ok=False, exception_type="ValueError", exception="bad", traceback=tb
    )
    reporter.task_failed(spec, failed, retrying=False)
    reporter.run_finished(RunOutcome("7", False, [(spec, failed)], 1.0))
    assert out.getvalue() == "[7/train/3] hello\n"
    text = err.getvalue()
    assert "Run F/7 started by ana." in text
    assert "[7/train/3] failed (attempt 0): ValueError: bad" in text
    assert "[7/train/3]   ValueError: bad" in text
    assert text.rstrip().endswith("Run F/7 failed: task F/7/train/3 raised ValueError: bad")


def test_quiet_prints_only_failures() -> None:
    reporter, out, err = _plain(quiet=True)
    reporter.run_started("F", "7", "ana")
    spec = _spec("start", "1")
    reporter.task_launched(spec)
    reporter.log_line("stdout", "[7/start/1] chatter")
    reporter.task_succeeded(spec, TaskResult("1", 0, ok=True))
    reporter.run_finished(RunOutcome("7", True, [], 0.5))
    assert out.getvalue() == "" and err.getvalue() == ""


def test_a_retry_is_announced_without_the_traceback() -> None:
    reporter, _, err = _plain()
    failed = TaskResult("3", 0, ok=False, exception_type="IOError", exception="flaky",
                        traceback="Traceback ...\nOSError: flaky\n")  # fmt: skip
    reporter.task_failed(_spec("load", "3"), failed, retrying=True)
    assert "failed, will retry (attempt 0): IOError: flaky" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_live_table_counts_foreach_progress() -> None:
    reporter = RichReporter()
    reporter.console.file = io.StringIO()
    reporter.run_started("F", "7", "ana")
    width = 4
    for index in range(width):
        spec = _spec("work", str(10 + index), (Frame("1", "foreach", index, width),))
        reporter.task_launched(spec)
        if index < 3:
            reporter.task_succeeded(spec, TaskResult(spec.task_id, 0, ok=True))
    table = reporter._table()
    reporter.run_finished(RunOutcome("7", True, [], 1.0))
    rows = list(zip(*(col._cells for col in table.columns), strict=True))
    assert rows == [("work", "3 / 4", "1", "0")]
