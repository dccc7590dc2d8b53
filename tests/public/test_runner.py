"""Runner: run and resume flows from Python, sync and async, reading results back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from stepwell import Runner

FLOWS = Path(__file__).parents[1] / "flows"
PARAMS = FLOWS / "shapes" / "parameters_flow.py"


def test_run_with_parameters_and_read_the_result(stepwell_home: Path) -> None:
    with Runner(PARAMS, show_output=False) as runner:
        result = runner.run(who="ana", count=4, tags=["nightly"])
    assert result.status == "successful" and result.returncode == 0
    assert "started by tester" in result.stderr
    run = result.run
    assert run.successful and run.data.greeting == "hello ana"
    assert "nightly" in run.tags


def test_a_failed_run_reports_failure(stepwell_home: Path) -> None:
    with Runner(FLOWS / "failing" / "raises_flow.py", show_output=False) as runner:
        result = runner.run()
    assert result.status == "failed" and result.returncode == 1
    assert "ValueError" in result.stderr
    assert result.run.successful is False


def test_resume_reuses_the_origin_run(stepwell_home: Path) -> None:
    with Runner(PARAMS, show_output=False) as runner:
        first = runner.run(who="bo")
        again = runner.resume("end")
    assert again.status == "successful", again.stderr
    assert again.run_id != first.run_id
    assert "reused from the origin run" in again.stderr
    assert again.run.data.greeting == "hello bo"


def test_async_run_streams_logs_and_waits(stepwell_home: Path) -> None:
    async def main() -> tuple[list[str], str]:
        with Runner(FLOWS / "failing" / "logs_flow.py", show_output=False) as runner:
            executing = await runner.async_run()
            assert executing.status == "running"
            lines = [line async for line in executing.stream_log("stdout")]
            await executing.wait()
            return lines, executing.status

    lines, status = asyncio.run(main())
    assert status == "successful"
    assert any("out line one" in line for line in lines), lines
