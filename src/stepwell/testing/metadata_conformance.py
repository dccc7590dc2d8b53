"""A conformance suite every :class:`~stepwell.metadata.MetadataStore` must pass.

Use it by subclassing in a test module and providing a ``store`` fixture that
builds the store under test with the suite's ``clock`` fixture and the default
heartbeat timeout (60 s)::

    class TestSqliteMetadataStore(MetadataStoreConformance):
        @pytest.fixture
        def store(self, tmp_path, clock):
            return SqliteMetadataStore(tmp_path / "stepwell.db", clock=clock)

The tests only use the public interface, so they hold for every backend.
"""

from __future__ import annotations

import os
import socket

import pytest

from stepwell.exceptions import MetadataError, NotFoundError
from stepwell.metadata import (
    MetadataStore,
    TaskLaunch,
)
from stepwell.testing._metadata_kit import (  # noqa: F401 - the suite's helpers, imported from here
    DEAD_PID,
    FLOW,
    HEARTBEAT_TIMEOUT,
    T0,
    FakeClock,
    artifact,
    ids,
    new_run,
    outcome,
    write_a_run,
)
from stepwell.testing.accounts_conformance import AccountsConformance
from stepwell.testing.orchestration_conformance import OrchestrationConformance
from stepwell.testing.scheduling_conformance import SchedulingConformance
from stepwell.testing.upkeep_conformance import UpkeepConformance


class MetadataStoreConformance(
    AccountsConformance, OrchestrationConformance, SchedulingConformance, UpkeepConformance
):
    """The behaviour every metadata store shares. Subclasses provide ``store``."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def store(self, clock: FakeClock) -> MetadataStore:
        raise NotImplementedError("a conformance subclass must provide the 'store' fixture")

    # -- runs ---------------------------------------------------------------------

    def test_run_ids_are_increasing_positive_integers_across_flows(self, store):
        run_ids = [new_run(store, flow) for flow in ("A", "B", "A", "C", "B")]
        numbers = [int(r) for r in run_ids]
        assert all(n > 0 for n in numbers)
        assert numbers == sorted(numbers) and len(set(numbers)) == 5

    def test_get_run_returns_what_new_run_recorded(self, store, clock):
        run_id = new_run(
            store,
            user="grace",
            tags=["b", "a", "b"],
            system_tags=["user:grace", "runtime:dev"],
            parameters={"alpha": "0.5", "names": '["x", "y"]'},
            pid=4242,
            host="elsewhere",
            origin_run_id="7",
            code_key="sha:abc",
            datastore="s3://team-bucket/stepwell",
        )
        run = store.get_run(FLOW, run_id)
        assert (run.flow_name, run.run_id, run.pathspec) == (FLOW, run_id, f"{FLOW}/{run_id}")
        assert (run.status, run.user, run.error) == ("running", "grace", None)
        assert run.tags == ("a", "b")
        assert run.system_tags == ("runtime:dev", "user:grace")
        assert dict(run.parameters) == {"alpha": "0.5", "names": '["x", "y"]'}
        assert (run.started_at, run.heartbeat_at, run.finished_at) == (T0, T0, None)
        assert (run.pid, run.host) == (4242, "elsewhere")
        assert (run.origin_run_id, run.code_key) == ("7", "sha:abc")
        assert run.datastore == "s3://team-bucket/stepwell"
        assert store.get_run(FLOW, new_run(store)).datastore is None  # not given: unknown

    def test_new_run_rejects_a_parameter_that_is_not_json_text(self, store):
        with pytest.raises(MetadataError, match="alpha"):
            new_run(store, parameters={"alpha": 0.5})

    def test_heartbeat_moves_heartbeat_at(self, store, clock):
        run_id = new_run(store)
        clock.advance(5)
        store.heartbeat(FLOW, run_id)
        assert store.get_run(FLOW, run_id).heartbeat_at == T0 + 5

    def test_finish_run_records_status_time_and_error(self, store, clock):
        ok, bad = new_run(store), new_run(store)
        clock.advance(3)
        store.finish_run(FLOW, ok, "succeeded")
        store.finish_run(FLOW, bad, "failed", error="boom in train")
        run = store.get_run(FLOW, ok)
        assert (run.status, run.finished_at, run.error) == ("succeeded", T0 + 3, None)
        run = store.get_run(FLOW, bad)
        assert (run.status, run.error) == ("failed", "boom in train")

    def test_finish_run_rejects_an_unknown_status(self, store):
        run_id = new_run(store)
        with pytest.raises(MetadataError, match="'done'"):
            store.finish_run(FLOW, run_id, "done")
        assert store.get_run(FLOW, run_id).status == "running"

    def test_finish_run_twice_raises_and_keeps_the_first_status(self, store):
        run_id = new_run(store)
        store.finish_run(FLOW, run_id, "succeeded")
        with pytest.raises(MetadataError, match="already finished"):
            store.finish_run(FLOW, run_id, "failed")
        assert store.get_run(FLOW, run_id).status == "succeeded"

    @pytest.mark.parametrize(
        "write",
        [
            lambda s, r: s.heartbeat(FLOW, r),
            lambda s, r: s.finish_run(FLOW, r, "failed"),
            lambda s, r: s.add_tags(FLOW, r, ["x"]),
            lambda s, r: s.remove_tags(FLOW, r, ["x"]),
            lambda s, r: s.register_task(TaskLaunch(FLOW, r, "start", "1")),
            lambda s, r: s.record_task(outcome(r, "start", "1")),
        ],
        ids=["heartbeat", "finish_run", "add_tags", "remove_tags", "register", "record"],
    )
    def test_writes_to_an_unknown_run_raise_not_found(self, store, write):
        new_run(store)
        with pytest.raises(NotFoundError, match=f"{FLOW}/999"):
            write(store, "999")
        assert store.list_runs(FLOW) and len(store.list_runs(FLOW)) == 1

    # -- tags ---------------------------------------------------------------------------

    def test_add_and_remove_user_tags(self, store):
        run_id = new_run(store, tags=["keep"])
        store.add_tags(FLOW, run_id, ["new", "keep", "new"])
        assert store.get_run(FLOW, run_id).tags == ("keep", "new")
        store.remove_tags(FLOW, run_id, ["keep", "never-there"])
        assert store.get_run(FLOW, run_id).tags == ("new",)

    def test_system_tags_cannot_be_removed(self, store):
        run_id = new_run(store, tags=["mine"], system_tags=["user:ada"])
        with pytest.raises(MetadataError, match="user:ada"):
            store.remove_tags(FLOW, run_id, ["mine", "user:ada"])
        run = store.get_run(FLOW, run_id)
        assert (run.tags, run.system_tags) == (("mine",), ("user:ada",))

    def test_a_tag_must_be_a_non_empty_string(self, store):
        run_id = new_run(store)
        with pytest.raises(MetadataError, match="tag"):
            store.add_tags(FLOW, run_id, [""])
        with pytest.raises(MetadataError, match="sequence"):
            store.add_tags(FLOW, run_id, "abc")
        assert store.get_run(FLOW, run_id).tags == ()

    # -- listing runs -----------------------------------------------------------------

    def test_list_runs_is_newest_first_and_per_flow(self, store):
        mine = [new_run(store) for _ in range(3)]
        new_run(store, "OtherFlow")
        assert ids(store.list_runs(FLOW)) == mine[::-1]

    def test_list_runs_pages_cover_every_run_once(self, store):
        run_ids = [new_run(store) for _ in range(7)][::-1]
        pages = [ids(store.list_runs(FLOW, limit=3, offset=o)) for o in (0, 3, 6, 9)]
        assert pages == [run_ids[:3], run_ids[3:6], run_ids[6:], []]
        assert ids(store.list_runs(FLOW, offset=5)) == run_ids[5:]
        assert store.list_runs(FLOW, limit=0) == []

    def test_list_runs_filters_by_status(self, store):
        ok, bad, running = new_run(store), new_run(store), new_run(store)
        store.finish_run(FLOW, ok, "succeeded")
        store.finish_run(FLOW, bad, "failed")
        assert ids(store.list_runs(FLOW, status="succeeded")) == [ok]
        assert ids(store.list_runs(FLOW, status="failed")) == [bad]
        assert ids(store.list_runs(FLOW, status="running")) == [running]
        with pytest.raises(MetadataError, match="'done'"):
            store.list_runs(FLOW, status="done")

    def test_list_runs_filters_by_tags_user_and_time(self, store, clock):
        a = new_run(store, tags=["x", "y"], user="ada")
        clock.advance(10)
        b = new_run(store, tags=["x"], user="bob", system_tags=["user:bob"])
        clock.advance(10)
        c = new_run(store, tags=["y"], user="ada")
        assert ids(store.list_runs(FLOW, tags=["x"])) == [b, a]
        assert ids(store.list_runs(FLOW, tags=["x", "y"])) == [a]
        assert ids(store.list_runs(FLOW, tags=["user:bob"])) == [b]  # system tags match too
        assert ids(store.list_runs(FLOW, user="ada")) == [c, a]
        assert ids(store.list_runs(FLOW, since=T0 + 10)) == [c, b]
        assert ids(store.list_runs(FLOW, until=T0 + 10)) == [a]
        assert ids(store.list_runs(FLOW, since=T0 + 5, until=T0 + 15)) == [b]
        assert ids(store.list_runs(FLOW, user="ada", tags=["y"], limit=1, offset=1)) == [a]
        assert store.list_runs(FLOW, tags=["nope"]) == []

    def test_list_runs_of_an_unknown_flow_names_the_closest_flow(self, store):
        new_run(store)
        with pytest.raises(NotFoundError, match="Did you mean 'HelloFlow'"):
            store.list_runs("HeloFlow")

    def test_latest_run(self, store):
        first = new_run(store, user="ada")
        store.finish_run(FLOW, first, "succeeded")
        second = new_run(store, user="bob")
        store.finish_run(FLOW, second, "succeeded")
        third = new_run(store, user="ada")
        store.finish_run(FLOW, third, "failed")
        fourth = new_run(store, user="ada")
        assert store.latest_run(FLOW).run_id == fourth
        assert store.latest_run(FLOW, successful_only=True).run_id == second
        assert store.latest_run(FLOW, successful_only=True, user="ada").run_id == first
        assert store.latest_run(FLOW, user="bob").run_id == second
        assert store.latest_run(FLOW, user="eve") is None

    def test_latest_run_of_an_unknown_flow_raises(self, store):
        with pytest.raises(NotFoundError, match="NoFlow"):
            store.latest_run("NoFlow")

    def test_list_flows_is_sorted_and_distinct(self, store):
        assert store.list_flows() == []
        for flow in ("Zeta", "Alpha", "Zeta"):
            new_run(store, flow)
        assert store.list_flows() == ["Alpha", "Zeta"]

    # -- liveness -----------------------------------------------------------------------

    def test_a_run_without_heartbeat_is_reported_failed(self, store, clock):
        run_id = new_run(store)
        clock.advance(HEARTBEAT_TIMEOUT)
        assert store.get_run(FLOW, run_id).status == "running"
        clock.advance(1)
        run = store.get_run(FLOW, run_id)
        assert (run.status, run.error) == ("failed", "scheduler died")
        assert ids(store.list_runs(FLOW, status="failed")) == [run_id]
        assert store.list_runs(FLOW, status="running") == []
        assert store.latest_run(FLOW).status == "failed"
        store.heartbeat(FLOW, run_id)  # the scheduler was only slow
        assert store.get_run(FLOW, run_id).status == "running"

    def test_a_run_whose_scheduler_process_is_gone_is_reported_failed(self, store):
        here = socket.gethostname()
        dead = new_run(store, pid=DEAD_PID, host=here)
        alive = new_run(store, pid=os.getpid(), host=here)
        remote = new_run(store, pid=DEAD_PID, host=here + "-elsewhere")
        assert store.get_run(FLOW, dead).status == "failed"
        assert store.get_run(FLOW, dead).error == "scheduler died"
        assert store.get_run(FLOW, alive).status == "running"
        assert store.get_run(FLOW, remote).status == "running"  # cannot check another host
        assert ids(store.list_runs(FLOW, status="running")) == [remote, alive]
        assert ids(store.list_runs(FLOW, status="failed")) == [dead]
        assert ids(store.list_runs(FLOW, status="failed", limit=1, offset=1)) == []

    def test_finished_runs_do_not_age(self, store, clock):
        run_id = new_run(store, pid=DEAD_PID)
        store.finish_run(FLOW, run_id, "succeeded")
        clock.advance(10 * HEARTBEAT_TIMEOUT)
        run = store.get_run(FLOW, run_id)
        assert (run.status, run.error) == ("succeeded", None)

    # -- tasks ------------------------------------------------------------------------------

    def test_register_task_records_a_running_attempt(self, store, clock):
        run_id = new_run(store)
        clock.advance(1)
        store.register_task(
            TaskLaunch(FLOW, run_id, "train", "4", foreach_stack='[{"i": 2}]', index=2)
        )
        task = store.get_task(FLOW, run_id, "train", "4")
        assert (task.status, task.attempt, task.started_at, task.finished_at) == (
            "running",
            0,
            T0 + 1,
            None,
        )
        assert (task.foreach_stack, task.index, task.pathspec) == (
            '[{"i": 2}]',
            2,
            f"{FLOW}/{run_id}/train/4",
        )

    def test_record_task_records_everything_in_the_outcome(self, store, clock):
        run_id = new_run(store)
        store.register_task(TaskLaunch(FLOW, run_id, "start", "1"))
        clock.advance(2)
        store.record_task(
            outcome(
                run_id,
                "start",
                "1",
                artifacts=[artifact("x", "key-x", 10), artifact("y", "key-y", 20)],
                metadata={"foreach-num-splits": "3", "transition": '["train"]'},
                next_steps=["train"],
                split_count=3,
                foreach_stack="[]",
            )
        )
        task = store.get_task(FLOW, run_id, "start", "1")
        assert (task.status, task.started_at, task.finished_at) == ("succeeded", T0, T0 + 2)
        assert (task.next_steps, task.split_count, task.exception) == (("train",), 3, None)
        assert store.list_artifacts(FLOW, run_id, "start", "1") == {
            "x": artifact("x", "key-x", 10),
            "y": artifact("y", "key-y", 20),
        }
        assert store.get_task_metadata(FLOW, run_id, "start", "1") == {
            "foreach-num-splits": "3",
            "transition": '["train"]',
        }

    def test_record_task_without_registration(self, store):
        run_id = new_run(store)
        store.record_task(
            outcome(
                run_id,
                "start",
                "1",
                status="failed",
                started_at=T0 - 5,
                finished_at=T0 - 1,
                exception="ZeroDivisionError: division by zero",
                origin_pathspec=f"{FLOW}/1/start/1",
            )
        )
        task = store.get_task(FLOW, run_id, "start", "1")
        assert (task.status, task.started_at, task.finished_at) == ("failed", T0 - 5, T0 - 1)
        assert task.exception == "ZeroDivisionError: division by zero"
        assert task.origin_pathspec == f"{FLOW}/1/start/1"
        assert store.list_artifacts(FLOW, run_id, "start", "1") == {}

    def test_recording_the_same_attempt_again_replaces_it(self, store):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "start", "1", artifacts=[artifact("x", "old")]))
        store.record_task(outcome(run_id, "start", "1", artifacts=[artifact("x", "new")]))
        assert len(store.list_tasks(FLOW, run_id)) == 1
        assert store.list_artifacts(FLOW, run_id, "start", "1")["x"].key == "new"

    def test_attempts_are_kept_apart_and_the_latest_is_the_default(self, store):
        run_id = new_run(store)
        store.record_task(
            outcome(run_id, "train", "2", status="failed", artifacts=[artifact("a", "k0")])
        )
        store.record_task(outcome(run_id, "train", "2", attempt=1, artifacts=[artifact("b")]))
        assert store.get_task(FLOW, run_id, "train", "2").attempt == 1
        assert store.get_task(FLOW, run_id, "train", "2", attempt=0).status == "failed"
        assert [(t.task_id, t.attempt) for t in store.list_tasks(FLOW, run_id)] == [("2", 1)]
        assert list(store.list_artifacts(FLOW, run_id, "train", "2")) == ["b"]
        assert list(store.list_artifacts(FLOW, run_id, "train", "2", attempt=0)) == ["a"]

    def test_record_tasks_records_a_batch(self, store):
        run_id = new_run(store)
        batch = [
            outcome(run_id, "train", str(i), index=i, artifacts=[artifact("x", f"k{i}")])
            for i in range(50)
        ]
        store.record_tasks(batch)
        tasks = store.list_tasks(FLOW, run_id, "train")
        assert sorted(int(t.task_id) for t in tasks) == list(range(50))
        assert store.list_artifacts(FLOW, run_id, "train", "49")["x"].key == "k49"

    def test_record_tasks_is_all_or_nothing(self, store):
        run_id = new_run(store)
        batch = [outcome(run_id, "start", "1"), outcome("999", "start", "2")]
        with pytest.raises(NotFoundError):
            store.record_tasks(batch)
        assert store.list_tasks(FLOW, run_id) == []

    def test_record_task_rejects_a_bad_status_or_attempt(self, store):
        run_id = new_run(store)
        with pytest.raises(MetadataError, match="'running'"):
            store.record_task(outcome(run_id, "start", "1", status="running"))
        with pytest.raises(MetadataError, match="attempt"):
            store.record_task(outcome(run_id, "start", "1", attempt=-1))
        assert store.list_tasks(FLOW, run_id) == []

    def test_a_task_id_cannot_be_reused_by_another_step(self, store):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "start", "1"))
        with pytest.raises(MetadataError, match="unique within a run"):
            store.record_task(outcome(run_id, "end", "1"))
        with pytest.raises(MetadataError, match="unique within a run"):
            store.register_task(TaskLaunch(FLOW, run_id, "end", "1"))
        assert store.get_task(FLOW, run_id, "start", "1").step_name == "start"

    def test_list_steps_and_tasks_in_launch_order(self, store, clock):
        run_id = new_run(store)
        for step, task_id in [("start", "1"), ("b", "3"), ("a", "2"), ("a", "4"), ("end", "5")]:
            clock.advance(1)
            store.register_task(TaskLaunch(FLOW, run_id, step, task_id))
        assert store.list_steps(FLOW, run_id) == ["start", "b", "a", "end"]
        assert ids(store.list_tasks(FLOW, run_id)) == ["1", "3", "2", "4", "5"]
        assert ids(store.list_tasks(FLOW, run_id, "a")) == ["2", "4"]

    def test_a_run_without_tasks_has_no_steps(self, store):
        run_id = new_run(store)
        assert store.list_steps(FLOW, run_id) == []
        assert store.list_tasks(FLOW, run_id) == []

    def test_lineage_in_both_directions(self, store):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "start", "1", split_count=2))
        store.register_task(TaskLaunch(FLOW, run_id, "train", "2", parent_task_ids=["1"]))
        store.record_task(outcome(run_id, "train", "3", parent_task_ids=["1"]))
        store.record_task(outcome(run_id, "train", "2", attempt=1, parent_task_ids=["1"]))
        store.record_task(outcome(run_id, "join", "4", parent_task_ids=["2", "3", "3"]))
        children = store.child_tasks(FLOW, run_id, "start", "1")
        assert sorted((t.task_id, t.attempt) for t in children) == [("2", 1), ("3", 0)]
        parents = store.parent_tasks(FLOW, run_id, "join", "4")
        assert sorted(ids(parents)) == ["2", "3"]
        assert store.parent_tasks(FLOW, run_id, "start", "1") == []
        assert ids(store.child_tasks(FLOW, run_id, "train", "3")) == ["4"]

    # -- not found -------------------------------------------------------------------------

    def test_unknown_flow_names_the_closest(self, store):
        new_run(store)
        with pytest.raises(NotFoundError, match="Did you mean 'HelloFlow'") as info:
            store.get_run("HeloFlow", "1")
        assert "HeloFlow" in str(info.value)
        assert isinstance(info.value, KeyError)

    def test_unknown_run_names_the_pathspec_and_the_latest_run(self, store):
        latest = new_run(store)
        with pytest.raises(NotFoundError, match=f"'{FLOW}/424242'") as info:
            store.get_run(FLOW, "424242")
        assert f"{FLOW}/{latest}" in str(info.value)
        assert info.value.fields["pathspec"] == f"{FLOW}/424242"

    def test_a_run_id_of_another_flow_is_not_found(self, store):
        new_run(store)
        other = new_run(store, "OtherFlow")
        with pytest.raises(NotFoundError, match=f"OtherFlow/{other}"):
            store.get_run(FLOW, other)

    @pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", ""])
    def test_a_malformed_run_id_is_not_found(self, store, bad):
        new_run(store)
        with pytest.raises(NotFoundError, match="positive integers"):
            store.get_run(FLOW, bad)

    def test_unknown_step_and_task_name_what_exists(self, store):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "train", "12"))
        with pytest.raises(NotFoundError, match="Did you mean 'train'"):
            store.list_tasks(FLOW, run_id, "trian")
        with pytest.raises(NotFoundError, match="Did you mean 'train'"):
            store.get_task(FLOW, run_id, "trian", "99")
        with pytest.raises(NotFoundError, match=f"'{FLOW}/{run_id}/train/13'") as info:
            store.get_task(FLOW, run_id, "train", "13")
        assert str(info.value).endswith(f"Tasks of step {FLOW}/{run_id}/train: 12.")
        with pytest.raises(NotFoundError, match="belongs to step 'train'"):
            store.get_task(FLOW, run_id, "end", "12")
        with pytest.raises(NotFoundError, match="Attempts recorded: 0"):
            store.get_task(FLOW, run_id, "train", "12", attempt=3)

    @pytest.mark.parametrize(
        "read",
        [
            lambda s, r: s.list_artifacts(FLOW, r, "start", "9"),
            lambda s, r: s.get_task_metadata(FLOW, r, "start", "9"),
            lambda s, r: s.parent_tasks(FLOW, r, "start", "9"),
            lambda s, r: s.child_tasks(FLOW, r, "start", "9"),
        ],
        ids=["artifacts", "metadata", "parents", "children"],
    )
    def test_task_reads_of_an_unknown_task_raise(self, store, read):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "start", "1"))
        with pytest.raises(NotFoundError, match=f"{FLOW}/{run_id}/start/9"):
            read(store, run_id)

    def test_task_reads_of_an_unknown_run_name_the_run(self, store):
        new_run(store)
        with pytest.raises(NotFoundError, match=f"No run '{FLOW}/77'"):
            store.get_task(FLOW, "77", "start", "1")
        with pytest.raises(NotFoundError, match=f"No run '{FLOW}/77'"):
            store.list_steps(FLOW, "77")

    # -- lifecycle ------------------------------------------------------------------------

    def test_records_survive_close(self, store):
        run_id = new_run(store)
        store.record_task(outcome(run_id, "start", "1"))
        store.close()
        assert store.get_task(FLOW, run_id, "start", "1").status == "succeeded"
