"""The Runner as Metaflow documents it: context managers, top-level keywords, NBRunner."""

from __future__ import annotations

import asyncio
import json
import linecache
from pathlib import Path
from typing import Any

import pytest

from stepwell.exceptions import ConfigError, FlowDefinitionError
from stepwell.runner import NBRunner, Runner, RunnerOptionError

FLOWS = Path(__file__).parents[1] / "flows"
PARAMS = FLOWS / "shapes" / "parameters_flow.py"
CONFIG = FLOWS / "runtime" / "config_flow.py"
LOGS = FLOWS / "failing" / "logs_flow.py"


def test_executing_run_is_a_context_manager_that_cleans_up(stepwell_home: Path) -> None:
    runner = Runner(PARAMS, show_output=False)
    with runner.run(who="cm") as running:
        assert running.status == "successful" and running.returncode == 0
        assert running.run.data.greeting == "hello cm"
    assert not Path(runner._tmp.name).exists()
    assert running.run.data.greeting == "hello cm"  # the id outlives the cleanup


def test_top_level_options_as_keywords(stepwell_home: Path, tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"env": {"MODE": "from-file"}, "retries": 2}))
    with Runner(
        CONFIG, show_output=False, metadata="local", datastore="local", pylint=False,
        decospecs=["retry:times=1"], config=[("settings", str(settings))],
    ) as runner:  # fmt: skip
        result = runner.run(max_workers=1, tags=["a", "b"])
    assert result.status == "successful", result.stderr
    assert result.run.data.mode == "from-file" and result.run.data.retries == 2
    assert {"a", "b"} <= set(result.run.user_tags)


def test_config_value_as_name_dict_pairs(stepwell_home: Path) -> None:
    value = {"env": {"MODE": "inline"}, "retries": 0}
    with Runner(CONFIG, show_output=False, config_value=[("settings", value)]) as runner:
        result = runner.run()
    assert result.status == "successful", result.stderr
    assert result.run.data.mode == "inline"


def test_a_bad_keyword_says_what_is_valid(stepwell_home: Path) -> None:
    with pytest.raises(RunnerOptionError, match=r"datastor= is not an option.*datastore="):
        Runner(PARAMS, datastor="s3")
    with Runner(PARAMS, show_output=False) as runner:
        with pytest.raises(RunnerOptionError) as info:
            runner.run(max_worker=2)
        assert "Did you mean max_workers=?" in str(info.value)
        assert "who" in str(info.value) and "tags" in str(info.value)
        with pytest.raises(RunnerOptionError, match="set by the Runner itself"):
            runner.run(run_id_file="x")
    with pytest.raises(ConfigError, match="no configuration profiles"):
        Runner(PARAMS, profile="dev")


def test_show_output_prints_the_output(
    stepwell_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Runner(LOGS) as runner:
        runner.run()
    captured = capsys.readouterr()
    assert "out line one" in captured.out and "err line one" in captured.err


def test_async_run_knows_its_run_and_streams_from_a_position(stepwell_home: Path) -> None:
    async def main() -> tuple[str | None, list[tuple[int, str]], list[tuple[int, str]], str]:
        async with Runner(LOGS, show_output=False) as runner:
            running = await runner.async_run()
            run_id = running.run_id  # known as soon as async_run returns
            lines = [entry async for entry in running.stream_log("stdout")]
            again = [entry async for entry in running.stream_log("stdout", position=1)]
            await running.wait()
            return run_id, lines, again, running.status

    run_id, lines, again, status = asyncio.run(main())
    assert run_id is not None and status == "successful"
    assert [i for i, _ in lines] == list(range(len(lines))) and len(lines) == 3
    assert again == lines[1:]


# -- NBRunner --------------------------------------------------------------------------------

CELL = """\
from stepwell import FlowSpec, Parameter, step

class CellFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)

    @step
    def start(self):
        self.doubled = self.alpha * 2
        self.next(self.end)

    @step
    def end(self):
        print("cell flow done")
"""


def _notebook_cell(source: str, name: str) -> dict[str, Any]:
    """Run ``source`` as IPython runs a cell: compiled under a pseudo-file kept in linecache."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, name, "exec"), namespace)
    return namespace


def test_nbrunner_runs_a_flow_defined_in_a_cell(stepwell_home: Path, tmp_path: Path) -> None:
    cell = CELL + "run = NBRunner(CellFlow).nbrun(alpha=5)\n"
    name = "<ipython-input-3-0123456789ab>"
    try:
        namespace = _notebook_cell(CELL, name)
        runner = NBRunner(namespace["CellFlow"], show_output=False, base_dir=tmp_path)
        flow_file = runner.flow_file
        assert flow_file.parent == tmp_path and flow_file.read_text().startswith(CELL)
        run = runner.nbrun(alpha=5)
    finally:
        linecache.cache.pop(name, None)
    assert cell  # the NBRunner line itself is not part of the flow file
    assert run.successful and run.data.doubled == 10
    assert not flow_file.exists()  # nbrun cleans up


def test_nbrunner_run_returns_an_executing_run(stepwell_home: Path, tmp_path: Path) -> None:
    name = "<ipython-input-4-0123456789ab>"
    try:
        namespace = _notebook_cell(CELL, name)
        with NBRunner(namespace["CellFlow"], show_output=False, base_dir=tmp_path).run() as done:
            assert done.status == "successful" and done.run.data.doubled == 2
    finally:
        linecache.cache.pop(name, None)
    assert list(tmp_path.glob("CellFlow_*.py")) == []


def test_nbrunner_without_source_says_why(stepwell_home: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(CELL, "<string>", "exec"), namespace)  # as python -c does
    with pytest.raises(FlowDefinitionError, match="python -c"):
        NBRunner(namespace["CellFlow"])
