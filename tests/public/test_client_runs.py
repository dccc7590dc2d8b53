"""Listing many runs: latest_run, latest_successful_run and the filters of Flow.runs()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stepwell import Flow, Run, default_namespace
from stepwell.testing import FlowRun, run_flow

COUNTER = Path(__file__).resolve().parents[1] / "flows" / "client" / "counter_flow.py"
FAILING = {2, 5}  # these values of n fail
COUNT = 7


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[FlowRun]:
    home = tmp_path_factory.mktemp("client-runs")
    made = []
    for n in range(COUNT):
        args = ["--n", str(n), "--tag", "even" if n % 2 == 0 else "odd"]
        if n in FAILING:
            args += ["--fail", "true"]
        made.append(run_flow(COUNTER, *args, home=home, env={"STEPWELL_USER": "tester"}))
        assert made[-1].run_id, made[-1].stderr
        assert made[-1].ok == (n not in FAILING), made[-1].stderr
    return made


@pytest.fixture(autouse=True)
def client_store(runs: list[FlowRun], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWELL_HOME", str(runs[0].home))
    default_namespace()


def ids_of(runs: list[FlowRun], ns: list[int]) -> list[str | None]:
    return [runs[n].run_id for n in ns]


def test_latest_run_is_the_newest(runs: list[FlowRun]) -> None:
    flow = Flow("CounterFlow")
    assert flow.latest_run.id == runs[-1].run_id
    assert flow.latest_run.data.value == COUNT - 1


def test_latest_successful_run_skips_failures(runs: list[FlowRun]) -> None:
    # n = 6 succeeded; make the newest a failure to see it skipped
    assert Flow("CounterFlow").latest_successful_run.id == runs[6].run_id
    failed = Run(f"CounterFlow/{runs[5].run_id}")
    assert failed.successful is False and failed.finished


def test_runs_are_newest_first(runs: list[FlowRun]) -> None:
    expected = ids_of(runs, list(range(COUNT - 1, -1, -1)))
    assert [r.id for r in Flow("CounterFlow")] == expected
    assert [r.id for r in Flow("CounterFlow").runs()] == expected
    assert [r.data.value if r.successful else None for r in Flow("CounterFlow")] == [
        6, None, 4, 3, None, 1, 0,
    ]  # fmt: skip


def test_runs_filters(runs: list[FlowRun]) -> None:
    flow = Flow("CounterFlow")
    assert [r.id for r in flow.runs(limit=3)] == ids_of(runs, [6, 5, 4])
    assert [r.id for r in flow.runs("even")] == ids_of(runs, [6, 4, 2, 0])
    assert [r.id for r in flow.runs("odd", status="succeeded")] == ids_of(runs, [3, 1])
    assert [r.id for r in flow.runs(status="failed")] == ids_of(runs, [5, 2])
    assert [r.id for r in flow.runs(status="succeeded", limit=2)] == ids_of(runs, [6, 4])
    assert [r.id for r in flow.runs(user="tester", limit=1)] == ids_of(runs, [6])
    assert list(flow.runs(user="nobody")) == []
    assert list(flow.runs(limit=0)) == []


def test_runs_by_time(runs: list[FlowRun]) -> None:
    flow = Flow("CounterFlow")
    middle = Run(f"CounterFlow/{runs[3].run_id}").created_at
    assert [r.id for r in flow.runs(since=middle)] == ids_of(runs, [6, 5, 4, 3])
    assert [r.id for r in flow.runs(until=middle)] == ids_of(runs, [2, 1, 0])
    just_after = middle + dt.timedelta(milliseconds=1)
    assert [r.id for r in flow.runs(since=middle, until=just_after)] == ids_of(runs, [3])
    last = Run(f"CounterFlow/{runs[6].run_id}").created_at.timestamp()  # epoch seconds
    assert [r.id for r in flow.runs(since=last - 1e-3)] == ids_of(runs, [6])
    assert list(flow.runs(since=last + 1e-3)) == []
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert list(flow.runs(since=future)) == []


def test_invalid_filters() -> None:
    flow = Flow("CounterFlow")
    with pytest.raises(ValueError, match="status 'done'"):
        flow.runs(status="done")
    with pytest.raises(ValueError, match="limit"):
        flow.runs(limit=-1)
    with pytest.raises(TypeError, match="since"):
        flow.runs(since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tag"):
        flow.runs("")


def test_flow_created_at_is_its_first_run(runs: list[FlowRun]) -> None:
    assert Flow("CounterFlow").created_at == Run(f"CounterFlow/{runs[0].run_id}").created_at
