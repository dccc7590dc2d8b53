"""``stepwell scheduler`` as a real process: schedules, events, upstream runs, exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests._polling import wait_for

from stepwell.client import Flow, namespace, reset_client
from stepwell.metadata import SqliteMetadataStore
from stepwell.testing import run_flow

from .conftest import FLOWS, Schedulers

CLI = [sys.executable, "-m", "stepwell.cli"]


def _cli(home: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    env = {**os.environ, "STEPWELL_HOME": str(home), **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def _deploy(home: Path, flow: Path, *top: str) -> Any:
    done = subprocess.run([sys.executable, str(flow), *top, "deploy"], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "STEPWELL_HOME": str(home)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def _runs(flow: str) -> list[Any]:
    reset_client()
    namespace(None)
    try:
        return list(Flow(flow).runs())
    except Exception:
        return []


def _finished(flow: str, count: int) -> list[Any]:
    runs = _runs(flow)
    return runs if len(runs) >= count and all(r.finished for r in runs) else []


def test_missed_slots_run_once_then_each_new_slot_once(schedulers: Schedulers) -> None:
    home = schedulers.home
    deployed_at = time.time()
    _deploy(home, FLOWS / "nightly_flow.py")
    schedulers.set_time(deployed_at + 17 * 60)  # slots every 5 minutes: 3 missed
    schedulers.start()
    (run,) = wait_for(lambda: _finished("NightlyFlow", 1), what="the first scheduled run")
    time.sleep(1.0)  # more ticks: nothing more is due
    assert len(_runs("NightlyFlow")) == 1
    assert run.successful and run["start"].task.data.kind == "schedule"
    first_slot = run["start"].task.data.slot
    assert {"deployment:NightlyFlow", "triggered_by:schedule"} <= set(run.system_tags)
    schedulers.set_time(deployed_at + 22 * 60)  # the next slot
    runs = wait_for(lambda: _finished("NightlyFlow", 2), what="the next slot's run")
    assert len(runs) == 2 and runs[0]["start"].task.data.slot > first_slot
    schedulers.stop_all()
    schedulers.start()  # a restart fires nothing already fired
    time.sleep(1.5)
    assert len(_runs("NightlyFlow")) == 2
    listed = _cli(home, "deployments")
    assert "NightlyFlow  v1  cron '*/5 * * * *' (UTC)" in listed.stdout
    assert f"last: NightlyFlow/{runs[0].id} succeeded" in listed.stdout


def test_an_event_published_while_no_scheduler_ran_starts_one_run_with_its_payload(
    schedulers: Schedulers,
) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "on_event_flow.py")
    published = _cli(home, "event", "publish", "data_ready", "--payload", '{"date": "2026-12-05"}')
    assert published.returncode == 0 and "Published event data_ready (id 1)" in published.stdout
    schedulers.start()
    (run,) = wait_for(lambda: _finished("OnEventFlow", 1), what="the event's run")
    data = run["start"].task.data
    assert run.successful and data.got == "2026-12-05"  # the payload field, as the parameter
    assert (data.event_name, data.event_id, data.payload) == (
        "data_ready",
        "1",
        {"date": "2026-12-05"},
    )
    assert "triggered_by:event" in run.system_tags
    from stepwell import publish_event

    publish_event("data_ready", {"date": "2026-12-06"})  # the Python API, scheduler running
    runs = wait_for(lambda: _finished("OnEventFlow", 2), what="the second event's run")
    assert sorted(r["start"].task.data.got for r in runs) == ["2026-12-05", "2026-12-06"]


def test_trigger_on_finish_chains_a_downstream_flow(schedulers: Schedulers) -> None:
    home = schedulers.home
    assert run_flow(FLOWS / "up_flow.py", home=home).ok  # UpFlow is known before the deploy
    _deploy(home, FLOWS / "down_flow.py")
    schedulers.start()
    time.sleep(1.0)
    assert _runs("DownFlow") == []  # the run before the deployment does not trigger it
    up = run_flow(FLOWS / "up_flow.py", home=home)
    assert up.ok
    (down,) = wait_for(lambda: _finished("DownFlow", 1), what="the downstream run")
    assert down.successful
    assert down["start"].task.data.upstream == f"UpFlow/{up.run_id}"
    assert down["start"].task.data.doubled == 42
    assert "triggered_by:finish" in down.system_tags


def test_two_schedulers_start_each_fire_once(schedulers: Schedulers) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "on_event_flow.py")
    schedulers.start()
    schedulers.start()
    for day in ("d1", "d2", "d3"):
        assert _cli(home, "event", "publish", "data_ready", "--payload",
                    f'{{"date": "{day}"}}').returncode == 0  # fmt: skip
        time.sleep(0.3)
    runs = wait_for(lambda: _finished("OnEventFlow", 3), what="three runs")
    time.sleep(1.0)
    runs = _runs("OnEventFlow")
    assert sorted(r["start"].task.data.got for r in runs) == ["d1", "d2", "d3"]
    logs = schedulers.log(0) + schedulers.log(1)
    assert "waiting: scheduler" in logs  # one of them held the lease, the other waited


@pytest.mark.parametrize("point", ["scheduler.after-claim", "scheduler.after-start"])
def test_a_scheduler_killed_mid_fire_starts_it_once_after_a_restart(
    schedulers: Schedulers, point: str
) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "on_event_flow.py")
    crashing = schedulers.start(env={"STEPWELL_CRASH_AT": point})
    assert _cli(home, "event", "publish", "data_ready", "--payload",
                '{"date": "once"}').returncode == 0  # fmt: skip
    assert crashing.wait(timeout=60) == -9  # killed at the crash point, mid-fire
    store = SqliteMetadataStore(home / "stepwell.db")
    (fire,) = store.list_fires("OnEventFlow")
    assert fire.run_id is None  # claimed; the run not started, or not yet marked
    schedulers.start()
    (run,) = wait_for(lambda: _finished("OnEventFlow", 1), what="the run of the fire")
    time.sleep(2.0)  # an orphan of the killed scheduler would have made a run by now
    assert len(_runs("OnEventFlow")) == 1 and run.successful
    assert run["start"].task.data.got == "once"
    assert "claimed but not started; starting it" in schedulers.log(1)


def test_deploy_time_errors_name_the_flow_line(stepwell_home: Path) -> None:
    cases = {
        "bad_cron_flow.py": "61 * * * *",
        "unknown_upstream_flow.py": "no flow named 'NoSuchFlow'",
        "missing_parameter_flow.py": "parameter(s) 'dya', which the flow does not have",
    }
    for file, message in cases.items():
        done = subprocess.run([sys.executable, str(FLOWS / file), "deploy"], capture_output=True,
                              text=True, timeout=120,
                              env={**os.environ, "STEPWELL_HOME": str(stepwell_home)})  # fmt: skip
        assert done.returncode == 1, (file, done.stderr)
        assert message in done.stderr, done.stderr
        assert f"{file}:" in done.stderr and "Traceback" not in done.stderr
    listed = _cli(stepwell_home, "deployments")
    assert "Nothing is deployed" in listed.stdout


def test_a_deployment_that_cannot_start_leaves_the_others_served(
    schedulers: Schedulers,
) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "broken" / "broken_flow.py")  # settings.json is not in its package
    _deploy(home, FLOWS / "on_event_flow.py")
    schedulers.start()
    assert _cli(home, "event", "publish", "data_ready").returncode == 0
    (run,) = wait_for(lambda: _finished("OnEventFlow", 1), what="the healthy deployment's run")
    assert run.successful and run["start"].task.data.got == "none"  # no payload: the default
    listed = wait_for(lambda: "failed to start" in (out := _cli(home, "deployments").stdout)
                      and out, what="the broken deployment's status")  # fmt: skip
    assert "BrokenFlow  v1  event data_ready" in listed
    assert "(exit 1)" in schedulers.log(0)


def test_deploying_again_runs_the_new_code_and_undeploy_stops_it(
    schedulers: Schedulers, tmp_path: Path
) -> None:
    home = schedulers.home
    flow = tmp_path / "nightly_flow.py"
    flow.write_text((FLOWS / "nightly_flow.py").read_text())
    deployed_at = time.time()
    _deploy(home, flow)
    flow.write_text(flow.read_text().replace("CODE_VERSION = 1", "CODE_VERSION = 2"))
    redeployed = _deploy(home, flow)
    assert "Deployed NightlyFlow version 2" in redeployed.stdout
    flow.write_text(
        flow.read_text().replace("CODE_VERSION = 2", "CODE_VERSION = 3")
    )  # not deployed
    schedulers.set_time(deployed_at + 6 * 60)
    schedulers.start()
    (run,) = wait_for(lambda: _finished("NightlyFlow", 1), what="a run of version 2")
    assert run["start"].task.data.code_version == 2  # the deployed package, not the working copy
    assert _cli(home, "undeploy", "NightlyFlow").returncode == 0
    schedulers.set_time(deployed_at + 11 * 60)
    time.sleep(1.5)
    assert len(_runs("NightlyFlow")) == 1
    unknown = _cli(home, "undeploy", "NightlyFlow")
    assert unknown.returncode == 1 and "no deployment named 'NightlyFlow'" in unknown.stderr


def test_the_deployer_api_deploys_triggers_and_lists_runs(
    stepwell_home: Path, tmp_path: Path
) -> None:
    pytest.importorskip("croniter")
    from stepwell import Deployer

    deployed = Deployer(str(FLOWS / "on_event_flow.py")).local().create()
    assert deployed.name == "OnEventFlow" and deployed.deployment.version == 1
    triggered = deployed.trigger(day="by-hand")
    run = triggered.wait_for_run(timeout=60)
    triggered.wait(timeout=60)
    reset_client()
    namespace(None)
    finished = Flow("OnEventFlow")[run.id]
    assert finished.successful and finished["start"].task.data.got == "by-hand"
    assert [r.id for r in deployed.runs()] == [run.id]
    assert "deployment:OnEventFlow" in finished.system_tags
    deployed.delete()
    assert "Nothing is deployed" in _cli(stepwell_home, "deployments").stdout


def test_several_events_start_one_run_once_all_have_come(schedulers: Schedulers) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "both_events_flow.py")
    schedulers.start()
    assert _cli(home, "event", "publish", "features_ready").returncode == 0
    time.sleep(1.0)
    assert _runs("BothEventsFlow") == []  # one of two: not yet
    assert _cli(home, "event", "publish", "labels_ready").returncode == 0
    (run,) = wait_for(lambda: _finished("BothEventsFlow", 1), what="the run of both events")
    assert run["start"].task.data.names == ["features_ready", "labels_ready"]
    time.sleep(1.0)
    assert len(_runs("BothEventsFlow")) == 1  # each event is used once


def test_project_branches_deploy_side_by_side(schedulers: Schedulers) -> None:
    home = schedulers.home
    _deploy(home, FLOWS / "project_flow.py", "--branch", "exp")
    _deploy(home, FLOWS / "project_flow.py", "--production")
    listed = _cli(home, "deployments").stdout
    assert "fraud.test.exp.FraudFlow  v1" in listed and "fraud.prod.FraudFlow  v1" in listed
    schedulers.start()
    assert _cli(home, "event", "publish", "fraud_go").returncode == 0
    runs = wait_for(lambda: _finished("FraudFlow", 2), what="a run of each branch")
    assert sorted(r["start"].task.data.branch for r in runs) == ["prod", "test.exp"]


def test_the_scheduler_on_postgresql(schedulers: Schedulers, pg_url: str) -> None:
    home = schedulers.home
    env = {"STEPWELL_METADATA": pg_url}
    done = subprocess.run([sys.executable, str(FLOWS / "on_event_flow.py"), "deploy"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "STEPWELL_HOME": str(home), **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    schedulers.start(env=env)
    published = _cli(home, "event", "publish", "data_ready", "--payload", '{"date": "pg"}',
                     env=env)  # fmt: skip
    assert published.returncode == 0, published.stderr
    from stepwell.metadata import PostgresMetadataStore

    store = PostgresMetadataStore(pg_url)
    try:
        fires = wait_for(lambda: [f for f in store.list_fires("OnEventFlow")
                                  if f.run_id and not f.run_id.startswith("pending:")],
                         what="the fire's run on PostgreSQL")  # fmt: skip
        run = wait_for(lambda: (r := store.get_run("OnEventFlow", fires[0].run_id)).finished_at
                       and r, what="the run to end")  # fmt: skip
        assert run.status == "succeeded"
        assert "triggered_by:event" in run.system_tags
    finally:
        store.close()


def test_sigkill_at_random_moments_loses_and_repeats_no_event(schedulers: Schedulers) -> None:
    import random

    home = schedulers.home
    _deploy(home, FLOWS / "on_event_flow.py")
    chance = random.Random(7)
    for index in range(4):
        proc = schedulers.start()
        assert _cli(home, "event", "publish", "data_ready", "--payload",
                    f'{{"date": "e{index}"}}').returncode == 0  # fmt: skip
        time.sleep(chance.uniform(0.0, 1.2))  # before, during or after its fire
        proc.kill()
        proc.wait()
    schedulers.start()
    runs = wait_for(lambda: _finished("OnEventFlow", 4), what="one run per event")
    time.sleep(2.0)
    runs = _runs("OnEventFlow")
    assert sorted(r["start"].task.data.got for r in runs) == ["e0", "e1", "e2", "e3"]
    assert all(r.successful for r in runs)
