"""Runner: run and resume flows from Python, sync and async, reading results back."""

from __future__ import annotations

import asyncio
import time
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
            lines = [line async for _, line in executing.stream_log("stdout")]
            await executing.wait()
            return lines, executing.status

    lines, status = asyncio.run(main())
    assert status == "successful"
    assert any("out line one" in line for line in lines), lines


def test_parameter_names_are_passed_as_declared_and_failures_keep_no_run_id(
    stepwell_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "underscore_flow.py"
    flow.write_text(
        "from stepwell import FlowSpec, Parameter, step\n"
        "class UnderscoreFlow(FlowSpec):\n"
        "    learning_rate = Parameter('learning_rate', default=0.1)\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.lr = self.learning_rate\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    UnderscoreFlow()\n"
    )
    with Runner(flow, show_output=False) as runner:
        bad = runner.run(learning_rate="fast")
        good = runner.run(learning_rate=0.5)
    assert bad.status == "failed" and bad.run_id is None
    assert good.status == "successful", good.stderr
    assert good.run.data.lr == 0.5


def test_wait_terminates_the_run_after_its_timeout(stepwell_home: Path) -> None:
    async def main() -> tuple[str, float]:
        with Runner(FLOWS / "runtime" / "chatty_flow.py", show_output=False) as runner:
            executing = await runner.async_run()
            started = time.monotonic()
            await executing.wait(timeout=0.5)
            return executing.status, time.monotonic() - started

    status, waited = asyncio.run(main())
    assert status == "failed" and waited < 1.9
