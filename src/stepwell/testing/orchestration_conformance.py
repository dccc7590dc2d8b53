"""The part of the metadata conformance suite for orchestrated runs (Argo, Airflow).

Every task of an orchestrator's run gives the run's *key* (the orchestrator's
id of it); the first task creates the run under that key and every later one,
or a retry of the first, finds the same run. Such a run has no local process
(``pid`` None): no heartbeat judges it, its orchestrator ends it. Mixed into
:class:`~stepwell.testing.metadata_conformance.MetadataStoreConformance`.
"""

from __future__ import annotations

import pytest

from stepwell.exceptions import MetadataError

FLOW = "HelloFlow"


def _keyed_run(store, key: str, flow: str = FLOW, **overrides) -> str:
    fields = {
        "user": "ada", "tags": [], "system_tags": ["runtime:argo-workflows"],
        "parameters": {"alpha": "0.5"}, "pid": None, "host": None, "run_key": key,
    }  # fmt: skip
    fields.update(overrides)
    return store.new_run(flow, **fields)


class OrchestrationConformance:
    """Run keys and runs without a local process, through the public interface only."""

    def test_a_run_key_names_one_run_however_often_it_is_created(self, store):
        first = _keyed_run(store, "argo-5d1c")
        again = _keyed_run(store, "argo-5d1c", parameters={"alpha": "9"})  # a retried start
        assert again == first
        assert [r.run_id for r in store.list_runs(FLOW)] == [first]
        assert store.get_run(FLOW, first).parameters == {"alpha": "0.5"}  # the first one's
        assert store.run_id_of_key(FLOW, "argo-5d1c") == first
        other = _keyed_run(store, "argo-77aa")
        assert other != first and store.run_id_of_key(FLOW, "argo-77aa") == other

    def test_an_unknown_key_has_no_run_and_a_key_names_one_flow(self, store):
        assert store.run_id_of_key(FLOW, "airflow-nothing") is None
        run_id = _keyed_run(store, "airflow-x")
        with pytest.raises(MetadataError, match=rf"belongs to run {FLOW}/{run_id}"):
            store.run_id_of_key("OtherFlow", "airflow-x")
        with pytest.raises(MetadataError, match="belongs to run"):
            _keyed_run(store, "airflow-x", flow="OtherFlow")

    def test_a_run_without_a_process_is_not_judged_by_its_heartbeat(self, store, clock):
        run_id = _keyed_run(store, "argo-old")
        clock.advance(24 * 3600)  # a day between two tasks (a pod waiting for a GPU node)
        run = store.get_run(FLOW, run_id)
        assert run.status == "running" and run.pid is None and run.host is None
        store.finish_run(FLOW, run_id, "failed", error="Argo workflow Failed")
        assert store.get_run(FLOW, run_id).status == "failed"
