"""The part of the metadata conformance suite for the local scheduler's records.

Deployments (versioned, with history), fires (claimed once, then given their
run), events (growing ids) and the scheduler's lease. Mixed into
:class:`~stepwell.testing.metadata_conformance.MetadataStoreConformance`, so a
backend that subclasses that suite runs these too.
"""

from __future__ import annotations

import pytest

from stepwell.exceptions import MetadataError, NotFoundError

FLOW = "HelloFlow"  # the flow the deployments name


class SchedulingConformance:
    """Deployments, fires, events and leases, through the public interface only."""

    def test_deploying_again_makes_a_new_active_version_and_keeps_the_history(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        first = store.save_deployment("Nightly", FLOW, {"code_key": "a", "cron": "0 0 * * *"},
                                      user="ada")  # fmt: skip
        clock.advance(10)
        second = store.save_deployment("Nightly", FLOW, {"code_key": "b"}, user="bob")
        assert (first.version, second.version) == (1, 2)
        assert store.get_deployment("Nightly") == second
        assert second.spec == {"code_key": "b"} and second.deployed_by == "bob"
        history = store.deployment_history("Nightly")
        assert [(d.version, d.active) for d in history] == [(2, True), (1, False)]
        assert history[1].spec == {"code_key": "a", "cron": "0 0 * * *"}
        assert history[1].deployed_at == start and history[0].deployed_at == start + 10

    def test_deployments_are_listed_by_name_and_undeploy_keeps_the_history(self, store):
        store.save_deployment("b.Flow", FLOW, {}, user="ada")
        store.save_deployment("a.Flow", FLOW, {}, user="ada")
        assert [d.name for d in store.list_deployments()] == ["a.Flow", "b.Flow"]
        gone = store.undeploy("a.Flow")
        assert gone.name == "a.Flow" and gone.active is False
        assert [d.name for d in store.list_deployments()] == ["b.Flow"]
        assert [d.active for d in store.deployment_history("a.Flow")] == [False]
        with pytest.raises(NotFoundError, match=r"b\.Flow"):  # lists what is deployed
            store.get_deployment("a.Flow")
        with pytest.raises(NotFoundError):
            store.undeploy("a.Flow")
        again = store.save_deployment("a.Flow", FLOW, {}, user="ada")
        assert again.version == 2 and again.active

    def test_an_unknown_deployment_names_the_close_ones(self, store):
        store.save_deployment("NightlyFlow", FLOW, {}, user="ada")
        with pytest.raises(NotFoundError, match="Did you mean 'NightlyFlow'"):
            store.get_deployment("NightlyFlwo")
        with pytest.raises(NotFoundError):
            store.deployment_history("Nope")

    def test_a_spec_must_be_json(self, store):
        with pytest.raises(MetadataError, match="JSON"):
            store.save_deployment("x", FLOW, {"bad": object()}, user="ada")

    def test_a_fire_is_claimed_once_then_given_its_run(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        key = "schedule:2026-12-05T00:00:00Z"
        trigger = {"events": [{"type": "schedule", "name": "schedule", "id": key[9:]}]}
        assert store.claim_fire("Nightly", key, version=1, holder="s1", trigger=trigger) is True
        assert store.claim_fire("Nightly", key, version=1, holder="s2") is False
        assert store.claim_fire("Other", key, version=1, holder="s2") is True
        (fire,) = store.list_fires("Nightly", unstarted=True)
        assert fire.trigger == trigger and fire.version == 1
        assert (fire.fire_key, fire.claimed_by, fire.claimed_at, fire.run_id) == (
            key, "s1", start, None
        )  # fmt: skip
        store.set_fire_run("Nightly", key, "17")
        assert store.list_fires("Nightly", unstarted=True) == []
        assert store.list_fires("Nightly")[0].run_id == "17"
        with pytest.raises(NotFoundError):
            store.set_fire_run("Nightly", "schedule:never", "18")

    def test_fires_are_listed_by_prefix_greatest_key_first(self, store):
        for key in ("schedule:2026-12-03T00:00:00Z", "schedule:2026-12-04T00:00:00Z",
                    "event:7", "finish:Up/3"):  # fmt: skip
            store.claim_fire("Nightly", key, version=1, holder="s1")
        listed = store.list_fires("Nightly", prefix="schedule:")
        assert [f.fire_key for f in listed] == [
            "schedule:2026-12-04T00:00:00Z", "schedule:2026-12-03T00:00:00Z"
        ]  # fmt: skip
        assert [f.fire_key for f in store.list_fires("Nightly", prefix="schedule:", limit=1)] == [
            "schedule:2026-12-04T00:00:00Z"
        ]
        assert len(store.list_fires("Nightly")) == 4

    def test_events_get_growing_ids_and_are_read_after_one(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        first = store.publish_event("data_ready", {"day": "2026-12-05"}, user="ada")
        clock.advance(1)
        second = store.publish_event("data_ready", {}, user="bob")
        assert second.event_id > first.event_id
        assert store.events_after(0) == [first, second]
        assert store.events_after(first.event_id) == [second]
        assert store.events_after(second.event_id) == []
        assert store.events_after(0, limit=1) == [first]
        assert (first.payload, first.published_by, first.published_at) == (
            {"day": "2026-12-05"}, "ada", start
        )  # fmt: skip
        with pytest.raises(MetadataError, match="event name"):
            store.publish_event("", {}, user="ada")

    def test_a_lease_has_one_holder_until_it_expires_or_is_released(self, store, clock):
        assert store.acquire_lease("scheduler", "s1", 30) is True
        assert store.acquire_lease("scheduler", "s2", 30) is False
        assert store.lease_holder("scheduler") == "s1"
        clock.advance(20)
        assert store.acquire_lease("scheduler", "s1", 30) is True  # renewed: 50 s from the start
        clock.advance(20)
        assert store.acquire_lease("scheduler", "s2", 30) is False
        clock.advance(11)  # s1 did not renew: expired
        assert store.lease_holder("scheduler") is None
        assert store.acquire_lease("scheduler", "s2", 30) is True
        store.release_lease("scheduler", "s1")  # not s1's any more: nothing happens
        assert store.lease_holder("scheduler") == "s2"
        store.release_lease("scheduler", "s2")
        assert store.acquire_lease("scheduler", "s1", 30) is True
