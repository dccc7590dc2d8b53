"""The one-task command: whole flows run through it alone, task by task; retries, errors, CLI.

An orchestrator (``_orchestrator.drive``) runs each task once its inputs
finished, exactly as Argo or Airflow would; every flow shape must end with
the artifacts its local run has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _orchestrator import drive

from stepwell.config import load_settings
from stepwell.exceptions import ConfigError, NotFoundError, StepwellError
from stepwell.flow import import_flow_file, load_flow_class
from stepwell.graph import check_flow
from stepwell.metadata import open_metadata
from stepwell.runtime._onetask import TaskRequest, run_one_task
from stepwell.testing._runs import FlowRun

FLOWS = Path(__file__).parents[1] / "flows"
SHAPES = sorted((FLOWS / "shapes").glob("*_flow.py"))
STEPWELL = [sys.executable, "-m", "stepwell.cli"]


def _one(flow_file: Path, step: str, **fields) -> dict:
    """The one-task command, in this process (it forks the task as a run does)."""
    flow_cls = load_flow_class(flow_file)
    fields.setdefault("run_key", "orchestrator-1")
    summary = run_one_task(
        flow_cls, load_settings(), TaskRequest(step=step, **fields), flow_file=str(flow_file)
    )
    return json.loads(summary.as_json())


def _one_cli(flow_file: Path, step: str, inputs: list[str], split: int | None, key: str) -> dict:
    """The one-task command in a process of its own, as an orchestrator runs it."""
    argv = ["task", step, "--flow", str(flow_file), "--run-key", key]
    argv += [a for pathspec in inputs for a in ("--input", pathspec)]
    argv += ["--split-index", str(split)] if split is not None else []
    done = _cli(*argv)
    assert done.stdout.strip(), done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _drive(
    flow_file: Path, home: Path, run_key: str = "orchestrator-1", *, cli: bool = False,
    **start_fields,
) -> FlowRun:  # fmt: skip
    """The flow run task by task: in this process (it forks each task), or with ``cli``
    each task by ``stepwell task`` in a process of its own (this process may not use S3
    in a child it forks once it used S3 itself, as other tests here do)."""
    flow_cls = load_flow_class(flow_file)
    graph = check_flow(flow_cls)
    metadata = open_metadata("local", home=home)

    def run_task(step: str, inputs: list[str], split: int | None) -> dict:
        if cli:
            return _one_cli(flow_file, step, inputs, split, run_key)
        extra = start_fields if step == graph.start else {}
        return _one(
            flow_file, step, inputs=tuple(inputs), split_index=split, run_key=run_key, **extra
        )

    results = drive(run_task, graph, metadata, flow_cls.__name__)
    run_id = results[0]["run_id"]
    assert {r["run_id"] for r in results} == {run_id}
    return FlowRun(home, flow_cls.__name__, 0, "", "", run_id, _metadata=metadata)


@pytest.mark.parametrize("flow_file", SHAPES, ids=lambda p: p.stem)
def test_every_shape_runs_task_by_task_and_ends_with_its_expected_artifacts(
    flow_file: Path, stepwell_home: Path
) -> None:
    run = _drive(flow_file, stepwell_home)
    ends = [t for t in run.tasks() if not t.next_steps]
    assert [t.step_name for t in ends] == [check_flow(load_flow_class(flow_file)).end]
    data = run.artifacts(ends[0].step_name, ends[0].task_id)
    for name, value in import_flow_file(flow_file).EXPECTED.items():
        assert data.get(name) == value, f"{name}: {data.get(name)!r} != {value!r}"
    assert all(t.status == "succeeded" for t in run.tasks())
    record = run.metadata.get_run(run.flow_name, run.run_id)
    assert record.status == "succeeded" and record.pid is None
    assert "runtime:task" in record.system_tags


def test_parameters_go_to_the_start_task_and_every_later_task_reads_them(stepwell_home):
    flow_file = FLOWS / "shapes" / "parameters_flow.py"
    run = _drive(flow_file, stepwell_home, raw_parameters={"who": "argo", "count": "4"})
    data = run.artifacts("end")
    assert data["greeting"] == "hello argo" and data["scaled"] == 2.0
    record = run.metadata.get_run(run.flow_name, run.run_id)
    assert record.parameters["who"] == '"argo"'


def test_task_ids_are_derived_from_what_the_task_is_and_a_done_task_is_not_run_again(
    stepwell_home,
):
    flow_file = FLOWS / "shapes" / "foreach_flow.py"
    start = _one(flow_file, "start")
    again = _one(flow_file, "start")  # a retried start pod: the same run, the same task
    assert again == start and start["task_id"].startswith("t")
    child = _one(flow_file, "body" if "body" in start["next_steps"] else start["next_steps"][0],
                 inputs=(start["pathspec"],), split_index=1)  # fmt: skip
    other = _one(flow_file, child["step"], inputs=(start["pathspec"],), split_index=2)
    assert child["task_id"] != other["task_id"]
    metadata = open_metadata("local", home=stepwell_home)
    tasks = metadata.list_tasks("ForeachFlow", start["run_id"], child["step"])
    assert sorted(t.task_id for t in tasks) == sorted([child["task_id"], other["task_id"]])
    assert [t.attempt for t in tasks] == [0, 0]


# -- retries, @catch, @timeout ------------------------------------------------------------


def test_without_attempt_every_retry_runs_here(stepwell_home):
    flow_file = FLOWS / "semantics" / "attempts_flow.py"
    start = _one(flow_file, "start")
    flaky = _one(flow_file, "flaky", inputs=(start["pathspec"],))
    assert flaky["status"] == "succeeded" and flaky["attempt"] == 1
    metadata = open_metadata("local", home=stepwell_home)
    attempts = [metadata.get_task("AttemptsFlow", start["run_id"], "flaky", flaky["task_id"], a)
                for a in (0, 1)]  # fmt: skip
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert "KeyError" in (attempts[0].exception or "")


def test_with_attempt_a_retryable_failure_exits_for_the_orchestrator_to_retry(stepwell_home):
    flow_file = FLOWS / "semantics" / "attempts_flow.py"
    start = _one(flow_file, "start")
    first = _one(flow_file, "flaky", inputs=(start["pathspec"],), attempt=0)
    assert first["status"] == "failed" and first["retryable"] is True
    assert "KeyError" in first["error"]
    metadata = open_metadata("local", home=stepwell_home)
    assert metadata.get_run("AttemptsFlow", start["run_id"]).status == "running"
    second = _one(flow_file, "flaky", inputs=(start["pathspec"],), attempt=1)
    assert second["status"] == "succeeded" and second["task_id"] == first["task_id"]
    end = _one(flow_file, "end", inputs=(second["pathspec"],))
    assert end["status"] == "succeeded"
    assert metadata.get_run("AttemptsFlow", start["run_id"]).status == "succeeded"


def test_the_last_attempt_fails_the_run_and_catch_lets_it_go_on(stepwell_home, tmp_path):
    flow_file = tmp_path / "caught_flow.py"
    flow_file.write_text(
        "from stepwell import FlowSpec, catch, retry, step\n\n"
        "class CaughtFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.boom)\n\n"
        "    @catch(var='failure')\n    @retry(times=1, minutes_between_retries=0)\n"
        "    @step\n    def boom(self):\n        raise ValueError('always')\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        self.seen = str(self.failure)\n\n"
        "if __name__ == '__main__':\n    CaughtFlow()\n"
    )
    start = _one(flow_file, "start")
    assert _one(flow_file, "boom", inputs=(start["pathspec"],), attempt=0)["retryable"]
    caught = _one(flow_file, "boom", inputs=(start["pathspec"],), attempt=1)
    assert caught["status"] == "succeeded" and caught["attempt"] == 2  # the @catch fallback
    end = _one(flow_file, "end", inputs=(caught["pathspec"],))
    run = FlowRun(stepwell_home, "CaughtFlow", 0, "", "", start["run_id"])
    assert "always" in run.artifacts("end", end["task_id"])["seen"]


def test_a_failure_no_retry_follows_ends_the_run_as_failed(stepwell_home, tmp_path):
    flow_file = tmp_path / "failing_flow.py"
    flow_file.write_text(
        "import time\nfrom stepwell import FlowSpec, step, timeout\n\n"
        "class SlowFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.slow)\n\n"
        "    @timeout(seconds=1)\n    @step\n    def slow(self):\n        time.sleep(60)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n"
        "if __name__ == '__main__':\n    SlowFlow()\n"
    )
    start = _one(flow_file, "start")
    slow = _one(flow_file, "slow", inputs=(start["pathspec"],), attempt=0)
    assert slow["status"] == "failed" and not slow["retryable"]
    assert "timeout" in slow["error"].lower()
    run = open_metadata("local", home=stepwell_home).get_run("SlowFlow", start["run_id"])
    assert run.status == "failed" and "slow" in (run.error or "")


# -- bad input: one message naming the thing ----------------------------------------------


def test_bad_requests_are_refused_with_what_to_give(stepwell_home):
    flow_file = FLOWS / "shapes" / "branch_flow.py"
    with pytest.raises(NotFoundError, match="its start task creates it"):
        _one(flow_file, "a", inputs=("start/t1",), run_key="never-started")
    with pytest.raises(ConfigError, match="the start step takes no --input"):
        _one(flow_file, "start", inputs=("start/t1",))
    with pytest.raises(ConfigError, match="one of the two"):
        _one(flow_file, "start", run_key=None)
    with pytest.raises(ConfigError, match="no such step; its steps: start"):
        _one(flow_file, "nope")
    start = _one(flow_file, "start")
    with pytest.raises(ConfigError, match="give its input task"):
        _one(flow_file, "a")
    with pytest.raises(ConfigError, match="does not exist: run it first"):
        _one(flow_file, "a", inputs=("start/t000000000000",))
    with pytest.raises(ConfigError, match="takes no --split-index"):
        _one(flow_file, "a", inputs=(start["pathspec"],), split_index=0)
    branch = _one(flow_file, "a", inputs=(start["pathspec"],))
    with pytest.raises(ConfigError, match="needs all of them as inputs; got 1"):
        _one(flow_file, "join", inputs=(branch["pathspec"],))
    with pytest.raises(ConfigError, match="does not lead to step 'end'"):
        _one(flow_file, "end", inputs=(branch["pathspec"],))


def test_a_foreach_child_needs_its_split_index_within_the_width(stepwell_home):
    flow_file = FLOWS / "shapes" / "foreach_flow.py"
    start = _one(flow_file, "start")
    child = start["next_steps"][0]
    width = len(start["splits"])
    with pytest.raises(ConfigError, match=rf"give --split-index 0..{width - 1} \(got {width}\)"):
        _one(flow_file, child, inputs=(start["pathspec"],), split_index=width)


def test_an_input_that_failed_stops_the_task_before_it_runs(stepwell_home):
    flow_file = FLOWS / "semantics" / "attempts_flow.py"
    start = _one(flow_file, "start")
    failed = _one(flow_file, "flaky", inputs=(start["pathspec"],), attempt=0)
    with pytest.raises(StepwellError, match="has not succeeded"):
        _one(flow_file, "end", inputs=(failed["pathspec"],))


# -- the command line -----------------------------------------------------------------------


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STEPWELL, *args], capture_output=True, text=True, cwd=cwd,
                          env=os.environ.copy(), timeout=120, check=False)  # fmt: skip


def test_stepwell_task_runs_from_the_code_package_and_writes_its_outputs(stepwell_home, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    source = (FLOWS / "shapes" / "foreach_flow.py").read_text()
    (project / "flow.py").write_text(source)
    out = tmp_path / "out"
    start = _cli("task", "start", "--flow", str(project / "flow.py"), "--run-key", "argo-abc",
                 "--runtime", "argo-workflows", "--output-dir", str(out))  # fmt: skip
    assert start.returncode == 0, start.stderr
    result = json.loads(start.stdout.strip().splitlines()[-1])
    assert (out / "pathspec").read_text() == result["pathspec"]
    assert json.loads((out / "splits").read_text()) == result["splits"] == [0, 1, 2, 3]
    assert json.loads((out / "result.json").read_text()) == result
    metadata = open_metadata("local", home=stepwell_home)
    run = metadata.get_run("ForeachFlow", result["run_id"])
    assert run.code_key and "runtime:argo-workflows" in run.system_tags
    # the flow's folder is gone: a later task runs the run's code from its package
    (project / "flow.py").unlink()
    child = _cli("task", result["next_steps"][0], "--flow", "flow.py", "--package", run.code_key,
                 "--run-key", "argo-abc", "--input", result["pathspec"], "--split-index", "2",
                 cwd=tmp_path)  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1])["status"] == "succeeded"
    unpacked = stepwell_home / "deployments" / "code" / run.code_key
    assert (unpacked / "flow.py").read_text() == source


def test_a_failed_task_exits_non_zero_and_finish_run_ends_the_run(stepwell_home):
    flow_file = FLOWS / "semantics" / "attempts_flow.py"
    start = _cli("task", "start", "--flow", str(flow_file), "--run-key", "airflow-1")
    pathspec = json.loads(start.stdout.strip().splitlines()[-1])["pathspec"]
    flaky = _cli("task", "flaky", "--flow", str(flow_file), "--run-key", "airflow-1",
                 "--input", pathspec, "--attempt", "0")  # fmt: skip
    assert flaky.returncode == 1
    assert "out of attempt 0" in flaky.stdout and "err of attempt 0" in flaky.stderr
    assert json.loads(flaky.stdout.strip().splitlines()[-1])["retryable"] is True
    ended = _cli("finish-run", "AttemptsFlow", "--run-key", "airflow-1", "--status", "Failed")
    assert ended.returncode == 0 and "ended: failed" in ended.stderr
    again = _cli("finish-run", "AttemptsFlow", "--run-key", "airflow-1", "--status", "Failed")
    assert "already ended: failed" in again.stderr
    none = _cli("finish-run", "AttemptsFlow", "--run-key", "airflow-2", "--status", "Error")
    assert none.returncode == 0 and "nothing to end" in none.stderr


def test_bad_command_line_values_get_one_message(stepwell_home):
    flow_file = str(FLOWS / "shapes" / "linear_flow.py")
    bad = _cli("task", "start", "--flow", flow_file, "--run-key", "k", "--param", "oops")
    assert bad.returncode != 0 and "give NAME=VALUE" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad = _cli("task", "b", "--flow", flow_file, "--run-key", "k", "--inputs-json", "[1]")
    assert bad.returncode != 0 and "each item must be a pathspec" in bad.stderr
    missing = _cli("task", "start", "--flow", "nowhere.py", "--run-key", "k")
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_a_run_the_orchestrator_failed_resumes_locally(stepwell_home):
    flow_file = FLOWS / "shapes" / "foreach_flow.py"
    start = _one(flow_file, "start")
    child = start["next_steps"][0]
    done = [_one(flow_file, child, inputs=(start["pathspec"],), split_index=i) for i in (0, 1)]
    assert all(d["status"] == "succeeded" for d in done)
    ended = _cli("finish-run", "ForeachFlow", "--run-key", "orchestrator-1", "--status", "Failed")
    assert ended.returncode == 0, ended.stderr
    resumed = subprocess.run(
        [sys.executable, str(flow_file), "resume", "--origin-run-id", start["run_id"]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    metadata = open_metadata("local", home=stepwell_home)
    latest = metadata.latest_run("ForeachFlow")
    assert latest is not None and latest.run_id != start["run_id"]
    assert latest.status == "succeeded"
    cloned = [t for t in metadata.list_tasks("ForeachFlow", latest.run_id) if t.origin_pathspec]
    assert sorted(t.origin_pathspec for t in cloned) == sorted(
        [start["pathspec"], *(d["pathspec"] for d in done)]
    )


def test_current_trigger_is_what_the_orchestrator_says_started_the_run(stepwell_home, tmp_path):
    flow_file = tmp_path / "triggered_flow.py"
    flow_file.write_text(
        "from stepwell import FlowSpec, current, step\n\n"
        "class TriggeredFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n"
        "        self.first = current.trigger.event.payload['table']\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n"
        "        self.last = (current.trigger.event.name, current.trigger.event.type)\n\n"
        "if __name__ == '__main__':\n    TriggeredFlow()\n"
    )
    event = {"name": "data_ready", "id": "argo-evt-7", "type": "event", "timestamp": 1.5}
    trigger = json.dumps({"events": [{**event, "payload": {"table": "sales"}}]})
    args = ["--flow", str(flow_file), "--run-key", "argo-t", "--trigger", trigger]
    start = _cli("task", "start", *args)
    assert start.returncode == 0, start.stderr
    pathspec = json.loads(start.stdout.strip().splitlines()[-1])["pathspec"]
    end = _cli("task", "end", *args, "--input", pathspec)
    assert end.returncode == 0, end.stderr
    run = FlowRun(stepwell_home, "TriggeredFlow", 0, "", "", pathspec.split("/")[1])
    assert run.artifacts("start")["first"] == "sales"
    assert run.artifacts("end")["last"] == ("data_ready", "event")
    bad = _cli("task", "start", "--flow", str(flow_file), "--run-key", "x", "--trigger", "{}")
    assert bad.returncode != 0 and "--trigger must be" in bad.stderr


def test_a_flow_runs_task_by_task_on_the_s3_datastore_with_its_logs_there(s3_env, stepwell_home):
    flow_file = FLOWS / "shapes" / "branch_in_foreach_flow.py"
    run = _drive(flow_file, stepwell_home, cli=True)
    record = run.metadata.get_run(run.flow_name, run.run_id)
    assert record.status == "succeeded" and record.datastore.startswith("s3://")
    data = run.artifacts("end")
    for name, value in import_flow_file(flow_file).EXPECTED.items():
        assert data.get(name) == value
    from stepwell import Run, namespace

    namespace(None)
    assert Run(f"{run.flow_name}/{run.run_id}").code is not None  # the package, in the bucket
    flaky = _drive(FLOWS / "semantics" / "attempts_flow.py", stepwell_home, "other", cli=True)
    task = Run(f"AttemptsFlow/{flaky.run_id}")["flaky"].task
    assert "out of attempt 1" in task.stdout and "err of attempt 1" in task.stderr  # uploaded


def test_a_foreach_join_finds_its_inputs_from_the_task_that_split(stepwell_home, tmp_path):
    flow_file = tmp_path / "wide_flow.py"
    flow_file.write_text(
        "from stepwell import FlowSpec, step\n\n"
        "class WideFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n"
        "        self.items = list(range(120))\n        self.next(self.body, foreach='items')\n\n"
        "    @step\n    def body(self):\n        self.doubled = 2 * self.input\n"
        "        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n"
        "        self.total = sum(i.doubled for i in inputs)\n"
        "        self.order = [i.index for i in inputs]\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n"
        "if __name__ == '__main__':\n    WideFlow()\n"
    )
    start = _one(flow_file, "start")
    for i in reversed(start["splits"]):  # any order: the join orders its inputs
        assert _one(flow_file, "body", inputs=(start["pathspec"],), split_index=i)["status"] == (
            "succeeded"
        )
    join = _one(flow_file, "join", inputs_of_split=start["pathspec"])
    run = FlowRun(stepwell_home, "WideFlow", 0, "", "", start["run_id"])
    data = run.artifacts("join", join["task_id"])
    assert data["total"] == 2 * sum(range(120)) and data["order"] == list(range(120))
    with pytest.raises(ConfigError, match="is not a join"):
        _one(flow_file, "end", inputs_of_split=start["pathspec"])


def test_event_bodies_from_a_sensor_become_current_trigger(stepwell_home, tmp_path):
    flow_file = tmp_path / "after_flow.py"
    flow_file.write_text(
        "from stepwell import FlowSpec, current, step\n\n"
        "class AfterFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n"
        "        trigger = current.trigger\n"
        "        self.kinds = [(e.type, e.name) for e in trigger.events]\n"
        "        self.table = trigger.event.payload.get('table')\n"
        "        self.upstream = trigger.run.pathspec\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n"
        "if __name__ == '__main__':\n    AfterFlow()\n"
    )
    upstream = _one(FLOWS / "shapes" / "linear_flow.py", "start", run_key="up")
    upstream_run = f"LinearFlow/{upstream['run_id']}"
    bodies = [
        json.dumps({"name": "data_ready", "payload": {"table": "sales"}}),
        "",  # an event the Sensor did not wait for: its parameter stays empty
        json.dumps({"name": "stepwell.finished.LinearFlow",
                    "payload": {"flow_name": "LinearFlow", "pathspec": upstream_run}}),
    ]  # fmt: skip
    args = [a for body in bodies for a in ("--trigger-event", body)]
    start = _cli("task", "start", "--flow", str(flow_file), "--run-key", "argo-ev", *args)
    assert start.returncode == 0, start.stderr
    run_id = json.loads(start.stdout.strip().splitlines()[-1])["run_id"]
    data = FlowRun(stepwell_home, "AfterFlow", 0, "", "", run_id).artifacts("start")
    assert data["kinds"] == [("event", "data_ready"), ("run", "LinearFlow")]
    assert data["table"] == "sales" and data["upstream"] == upstream_run
    bad = _cli("task", "start", "--flow", str(flow_file), "--run-key", "x",
               "--trigger-event", "[1]")  # fmt: skip
    assert bad.returncode != 0 and "must be an event body" in bad.stderr
