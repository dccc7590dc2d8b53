"""The part of the metadata conformance suite for a store's upkeep: @cache lookups and gc.

``find_cached_task`` finds the newest successful task of a step with a cache
key; ``blob_references`` and ``delete_runs`` are what ``stepwell gc`` relies
on. Mixed into :class:`~stepwell.testing.metadata_conformance.MetadataStoreConformance`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepwell.exceptions import NotFoundError
from stepwell.metadata import TaskOutcome
from stepwell.testing._metadata_kit import (
    FLOW,
    HEARTBEAT_TIMEOUT,
    T0,
    artifact,
    ids,
    new_run,
    outcome,
)


class UpkeepConformance:
    """@cache lookups and garbage collection, through the public interface only."""

    # -- the step cache (@cache) ---------------------------------------------------

    @staticmethod
    def _cached(run_id: str, step: str, task_id: str, key: str, **overrides: Any) -> TaskOutcome:
        metadata = {"cache_key": json.dumps(key), **overrides.pop("metadata", {})}
        return outcome(run_id, step, task_id, metadata=metadata, **overrides)

    def test_find_cached_task_is_the_newest_success_with_that_key(self, store, clock):
        first, second = new_run(store), new_run(store)
        store.record_task(self._cached(first, "train", "2", "k1", finished_at=T0 + 1))
        store.record_task(self._cached(second, "train", "5", "k1", finished_at=T0 + 5))
        store.record_task(self._cached(second, "train", "6", "k2", finished_at=T0 + 9))
        found = store.find_cached_task(FLOW, "train", "k1")
        assert found is not None and found.pathspec == f"{FLOW}/{second}/train/5"
        assert found.status == "succeeded" and found.finished_at == T0 + 5
        assert store.find_cached_task(FLOW, "train", "k2").task_id == "6"

    def test_find_cached_task_matches_flow_step_and_key_exactly(self, store):
        run_id = new_run(store)
        store.record_task(self._cached(run_id, "train", "2", "k1"))
        store.record_task(outcome(run_id, "score", "3", metadata={"other": json.dumps("k1")}))
        other = new_run(store, "OtherFlow")
        store.record_task(self._cached(other, "train", "2", "k9", flow="OtherFlow"))
        assert store.find_cached_task(FLOW, "train", "k9") is None
        assert store.find_cached_task(FLOW, "score", "k1") is None
        assert store.find_cached_task(FLOW, "train", "k") is None
        assert store.find_cached_task("NoSuchFlow", "train", "k1") is None
        assert store.find_cached_task("OtherFlow", "train", "k9").run_id == other

    def test_a_failed_attempt_is_never_a_cached_task(self, store):
        run_id = new_run(store)
        store.record_task(self._cached(run_id, "train", "2", "k1", status="failed"))
        assert store.find_cached_task(FLOW, "train", "k1") is None
        store.record_task(self._cached(run_id, "train", "2", "k1", attempt=1))
        found = store.find_cached_task(FLOW, "train", "k1")
        assert (found.task_id, found.attempt) == ("2", 1)

    def test_find_cached_task_since_leaves_out_older_tasks(self, store):
        run_id = new_run(store)
        store.record_task(self._cached(run_id, "train", "2", "k1", finished_at=T0 + 10))
        assert store.find_cached_task(FLOW, "train", "k1", since=T0 + 10).task_id == "2"
        assert store.find_cached_task(FLOW, "train", "k1", since=T0 + 11) is None

    # -- garbage collection ---------------------------------------------------------

    _KEYS = {n: f"{n:x}" * 64 for n in range(1, 10)}  # blob keys: 64 hex digits each

    def _run_with_blobs(self, store, first: int, **run_fields):
        """A finished run whose records refer to keys ``first`` .. ``first + 4``
        (code, artifact, read, card in task metadata, foreach items in task metadata)."""
        k = [self._KEYS[first + i] for i in range(5)]
        run_id = new_run(store, code_key=k[0], **run_fields)
        store.record_tasks(
            [
                outcome(run_id, "start", "1", artifacts=[artifact("x", k[1])]),
                outcome(
                    run_id, "end", "2", parent_task_ids=["1"], reads=[("x", k[2])],
                    metadata={
                        "card:default:0": f'{{"key": "{k[3]}", "assets": "{k[3]}"}}',
                        "transition": f'{{"items_key": "{k[4]}"}}',
                    },
                ),
            ]
        )  # fmt: skip
        store.finish_run(FLOW, run_id, "succeeded")
        return run_id, set(k)

    def test_blob_references_name_every_key_the_records_refer_to(self, store):
        first, keys1 = self._run_with_blobs(store, 1)
        _, keys2 = self._run_with_blobs(store, 5, tags=["keep"])
        assert set(store.blob_references()) == keys1 | keys2
        assert set(store.blob_references(exclude=[first])) == keys2  # 5 is shared

    def test_delete_runs_removes_every_record_of_the_runs(self, store):
        first, _ = self._run_with_blobs(store, 1)
        second, keys2 = self._run_with_blobs(store, 5)
        assert store.delete_runs(FLOW, [first]) == [first]
        with pytest.raises(NotFoundError):
            store.get_run(FLOW, first)
        with pytest.raises(NotFoundError):
            store.list_tasks(FLOW, first)
        assert ids(store.list_runs(FLOW)) == [second]
        assert set(store.blob_references()) == keys2
        assert store.list_artifacts(FLOW, second, "start", "1")["x"].key == self._KEYS[6]
        assert store.delete_runs(FLOW, [first]) == []  # already gone: nothing to do

    def test_delete_runs_never_deletes_a_running_run_nor_another_flows(self, store, clock):
        running = new_run(store)
        other = new_run(store, "OtherFlow")
        store.finish_run("OtherFlow", other, "failed")
        assert store.delete_runs(FLOW, [running, other, "999999", "nope"]) == []
        assert store.get_run(FLOW, running).status == "running"
        assert store.get_run("OtherFlow", other).status == "failed"
        clock.advance(HEARTBEAT_TIMEOUT + 1)  # its scheduler died: a failed run now
        assert store.delete_runs(FLOW, [running]) == [running]
