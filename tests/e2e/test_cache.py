"""@cache: a step whose code, inputs and parameters match an earlier success is not run again.

Every step of the fixture flows appends a line to a trace file when it runs, so
each test sees exactly which tasks ran and which were reused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from stepwell.client import Run
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows" / "cache"
CACHE_FLOW = FLOWS / "cache_flow.py"
ALL_STEPS = sorted(["start", "prepare", "branch:0", "branch:1", "branch:2", "gather", "end"])


def _trace(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return sorted(lines)  # foreach branches run in parallel: in any order


def _run(home: Path, trace: Path, *args: str, flow: Path = CACHE_FLOW, **env: str):
    result = run_flow(flow, *args, home=home, env={"CACHE_TRACE": str(trace), **env})
    return result, _trace(trace)


def test_a_second_run_reuses_the_cached_steps(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    first, ran = _run(stepwell_home, trace)
    assert first.ok, first.stderr
    assert ran == ALL_STEPS
    second, ran = _run(stepwell_home, trace)
    assert second.ok, second.stderr
    assert ran == ["end", "start"]  # prepare, the 3 branches and gather were reused
    assert "5 task(s) reused from the @cache." in second.stderr
    assert second.artifacts("gather")["total"] == first.artifacts("gather")["total"] == 33
    values = sorted(t.data.value for t in Run(f"CacheFlow/{second.run_id}")["branch"])
    assert values == [10, 11, 12]


def test_a_cached_task_names_the_task_it_came_from(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    first, _ = _run(stepwell_home, trace)
    second, _ = _run(stepwell_home, trace)
    assert first.ok and second.ok, second.stderr
    run = Run(f"CacheFlow/{second.run_id}")
    gather = run["gather"].task
    source = f"CacheFlow/{first.run_id}/gather/{gather.id}"
    assert gather.origin_pathspec == source
    assert json.loads(gather.metadata_dict["cached_from"]) == source
    assert "cache_key" not in gather.metadata_dict  # only a task that ran is a cache entry
    for task in run["branch"]:
        assert task.origin_pathspec.startswith(f"CacheFlow/{first.run_id}/branch/")
        assert task.index is not None and task.origin_pathspec.endswith(f"/{task.id}")
    start = run["start"].task
    assert start.origin_pathspec is None and "cached_from" not in start.metadata_dict
    ran = Run(f"CacheFlow/{first.run_id}")["gather"].task
    assert len(json.loads(ran.metadata_dict["cache_key"])) == 64


def test_a_changed_parameter_runs_the_steps_again(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    assert _run(stepwell_home, trace)[0].ok
    second, ran = _run(stepwell_home, trace, "--alpha", "2")
    assert second.ok, second.stderr
    assert ran == ALL_STEPS
    assert second.artifacts("gather")["total"] == 63
    third, ran = _run(stepwell_home, trace, "--alpha", "2")
    assert third.ok and ran == ["end", "start"]  # alpha=2 has its own entries now


def test_a_changed_helper_function_runs_the_steps_again(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    flow = flow_dir / "cache_flow.py"
    source = CACHE_FLOW.read_text()
    flow.write_text(source)
    assert _run(stepwell_home, trace, flow=flow)[0].ok
    flow.write_text(source.replace("return x * SCALE", "return x * SCALE + 1"))
    second, ran = _run(stepwell_home, trace, flow=flow)
    assert second.ok, second.stderr
    # prepare calls scaled(); its new 'base' is a new input to every branch and the join
    assert ran == ALL_STEPS
    assert second.artifacts("gather")["total"] == 36
    flow.write_text(source.replace("SCALE = 10", "SCALE = 20"))  # a constant the helper reads
    third, ran = _run(stepwell_home, trace, flow=flow)
    assert third.ok and ran == ALL_STEPS
    assert third.artifacts("gather")["total"] == 63


def test_a_change_elsewhere_in_the_file_keeps_the_cache(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    flow = flow_dir / "cache_flow.py"
    source = CACHE_FLOW.read_text()
    flow.write_text(source)
    assert _run(stepwell_home, trace, flow=flow)[0].ok
    flow.write_text(source.replace('note("end")', 'note("end")\n        print("changed")'))
    second, ran = _run(stepwell_home, trace, flow=flow)
    assert second.ok, second.stderr
    assert ran == ["end", "start"]


def test_foreach_branches_are_cached_one_by_one_and_failures_never(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    first, ran = _run(stepwell_home, trace, FAIL_ITEM="1")
    assert not first.ok
    assert "branch:1" in ran and "gather" not in ran
    done = {t.index for t in first.tasks("branch") if t.status == "succeeded"}
    assert 1 not in done and 0 in done  # branch 2 may not have started before the run failed
    second, ran = _run(stepwell_home, trace)
    assert second.ok, second.stderr
    # prepare and the branches that succeeded come from the failed run; the others run
    again = sorted(f"branch:{i}" for i in {0, 1, 2} - done)
    assert ran == sorted([*again, "end", "gather", "start"])
    for task in second.tasks("branch"):
        if task.index in done:
            assert task.origin_pathspec.startswith(f"CacheFlow/{first.run_id}/branch/")
        else:
            assert task.origin_pathspec is None
    assert second.artifacts("gather")["total"] == 33


def test_a_join_is_reused_only_with_the_same_inputs(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    assert _run(stepwell_home, trace, "--width", "2")[0].ok
    second, ran = _run(stepwell_home, trace, "--width", "2")
    assert second.ok and "gather" not in ran
    third, ran = _run(stepwell_home, trace, "--width", "4")
    assert third.ok and "gather" in ran
    assert third.artifacts("gather")["total"] == 46


def test_no_cache_runs_everything_and_still_records_keys(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    assert _run(stepwell_home, trace)[0].ok
    forced, ran = _run(stepwell_home, trace, "--no-cache")
    assert forced.ok, forced.stderr
    assert ran == ALL_STEPS
    assert all(t.origin_pathspec is None for t in forced.tasks())
    after, ran = _run(stepwell_home, trace)
    assert after.ok and ran == ["end", "start"]
    reused = {t.origin_pathspec.split("/")[1] for t in after.tasks() if t.origin_pathspec}
    assert reused == {forced.run_id}  # the newest entry: the --no-cache run's tasks


def test_an_expired_entry_is_not_reused(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    flow = FLOWS / "expire_flow.py"
    assert _run(stepwell_home, trace, flow=flow, CACHE_SECONDS="30")[0].ok
    second, ran = _run(stepwell_home, trace, flow=flow, CACHE_SECONDS="30")
    assert second.ok and ran == []
    time.sleep(1.2)
    third, ran = _run(stepwell_home, trace, flow=flow, CACHE_SECONDS="1")
    assert third.ok and ran == ["work"]  # the entry is over a second old
    assert third.artifacts("work")["result"] == 42


def test_a_caught_failure_is_never_reused(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    flow = FLOWS / "catch_flow.py"
    first, ran = _run(stepwell_home, trace, flow=flow, FAIL_RISKY="1")
    assert first.ok, first.stderr  # @catch let it go on
    assert ran == ["risky", "risky"]  # the attempt and its @retry
    second, ran = _run(stepwell_home, trace, flow=flow)
    assert second.ok and ran == ["risky"]
    third, ran = _run(stepwell_home, trace, flow=flow)
    assert third.ok and ran == []
    assert third.tasks("risky")[0].origin_pathspec == f"CatchCacheFlow/{second.run_id}/risky/2"


def test_resume_of_a_step_reuses_cached_tasks(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    first, ran = _run(stepwell_home, trace, FAIL_END="1")
    assert not first.ok and ran == ALL_STEPS
    resumed = run_flow(
        CACHE_FLOW, "prepare", home=stepwell_home, command=("resume",),
        env={"CACHE_TRACE": str(trace)},
    )  # fmt: skip
    assert resumed.ok, resumed.stderr
    # prepare and what follows are re-run steps, but the cache has them; end failed: it runs
    assert _trace(trace) == ["end"]
    gather = resumed.tasks("gather")[0]
    assert gather.origin_pathspec == f"CacheFlow/{first.run_id}/gather/{gather.task_id}"


def test_the_runner_takes_no_cache(stepwell_home: Path, tmp_path: Path) -> None:
    from stepwell import Runner

    trace = tmp_path / "trace"
    env = {"CACHE_TRACE": str(trace), "STEPWELL_HOME": str(stepwell_home)}
    with Runner(str(CACHE_FLOW), show_output=False, env=env) as runner:
        assert runner.run().status == "successful"
        assert _trace(trace) == ALL_STEPS
        assert runner.run().status == "successful"
        assert _trace(trace) == ["end", "start"]
        forced = runner.run(no_cache=True)
        assert forced.status == "successful"
        assert _trace(trace) == ALL_STEPS


def test_a_reused_task_shows_the_cards_of_the_task_it_reuses(
    stepwell_home: Path, tmp_path: Path
) -> None:
    from stepwell import get_cards

    trace = tmp_path / "trace"
    flow = FLOWS / "card_flow.py"
    first, ran = _run(stepwell_home, trace, flow=flow)
    assert first.ok and ran == ["report"], first.stderr
    second, ran = _run(stepwell_home, trace, flow=flow)
    assert second.ok and ran == []
    task = Run(f"CardCacheFlow/{second.run_id}")["report"].task
    assert task.origin_pathspec == f"CardCacheFlow/{first.run_id}/report/2"
    (report,) = get_cards(task)
    assert "cached report" in report.get()


def test_the_ui_says_a_task_was_reused_by_the_cache(stepwell_home: Path, tmp_path: Path) -> None:
    import urllib.request

    from stepwell.ui import make_server

    trace = tmp_path / "trace"
    first, _ = _run(stepwell_home, trace)
    second, _ = _run(stepwell_home, trace)
    assert first.ok and second.ok, second.stderr
    server = make_server(home=stepwell_home)
    server.start_in_thread()
    try:

        def task(pathspec: str) -> dict:
            with urllib.request.urlopen(f"{server.url}api/tasks/{pathspec}", timeout=30) as r:
                return json.loads(r.read())["task"]

        cached = task(Run(f"CacheFlow/{second.run_id}")["gather"].task.pathspec)
        assert cached["origin_kind"] == "cache" and cached["origin_pathspec"]
        ran = task(Run(f"CacheFlow/{first.run_id}")["gather"].task.pathspec)
        assert ran["origin_kind"] is None
    finally:
        server.shutdown()
        server.server_close()
