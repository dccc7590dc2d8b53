"""Deployments, events, fires and leases in the SQL metadata store (a mixin).

What ``stepwell scheduler`` keeps, so that none of its state lives in memory only:

- ``deployments``: every version of every deployment, ``active`` on the one in
  service (at most one per name; none once undeployed, the history kept).
- ``events``: published events; ids only grow, so a scheduler reads those
  after the last one it handled.
- ``deployment_fires``: each reason a deployment runs, claimed by one
  scheduler with an INSERT on its primary key (a second claim of the same
  fire fails: exactly one run per fire), then given its run id once the run
  exists. A partial index finds fires claimed but never started.
- ``leases``: a named lease with a holder and an expiry, taken in one write
  transaction (two schedulers started by mistake: one serves, one waits).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import MetadataError, NotFoundError
from stepwell.metadata._database import Query, SqlDatabase
from stepwell.metadata._notfound import _did_you_mean, _listing

if TYPE_CHECKING:  # built only by the three helpers below: reading runs never makes them
    from stepwell.metadata._service_records import DeploymentRecord, EventRecord, FireRecord

_DEPLOYMENT = "name, version, flow_name, spec, deployed_by, deployed_at, active"
_FIRE = "deployment, fire_key, version, claimed_by, claimed_at, trigger, run_id"
_EVENT = "event_id, name, payload, published_by, published_at"
_VERSION_ATTEMPTS = 5  # concurrent deploys of one name: the loser takes the next version


def _deployment(row: Any) -> DeploymentRecord:
    from stepwell.metadata._service_records import DeploymentRecord

    name, version, flow, spec, user, at, active = row
    return DeploymentRecord(name, int(version), flow, json.loads(spec), user, at, bool(active))


def _event(row: Any) -> EventRecord:
    from stepwell.metadata._service_records import EventRecord

    event_id, name, payload, user, at = row
    return EventRecord(int(event_id), name, json.loads(payload), user, at)


def _fire(row: Any) -> FireRecord:
    from stepwell.metadata._service_records import FireRecord

    deployment, fire_key, version, by, at, trigger, run_id = row
    return FireRecord(deployment, fire_key, int(version), by, at, json.loads(trigger), run_id)


def _json(value: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(value), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"{what} must be JSON-serializable: {exc}") from None


class DeploymentQueries:
    """Deployments, events, fires and leases (see the module docstring)."""

    _db: SqlDatabase
    _clock: Callable[[], float]

    # -- deployments --------------------------------------------------------------------
    def save_deployment(
        self, name: str, flow_name: str, spec: Mapping[str, Any], *, user: str
    ) -> DeploymentRecord:
        text = _json(spec, "A deployment's spec")
        for _ in range(_VERSION_ATTEMPTS):
            now = self._clock()
            with self._db.write() as q:
                row = q.one("SELECT MAX(version) FROM deployments WHERE name = ?", (name,))
                version = int(row[0] or 0) + 1
                if not q.run(
                    f"INSERT INTO deployments ({_DEPLOYMENT}) VALUES (?, ?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT (name, version) DO NOTHING",
                    (name, version, flow_name, text, user, now),
                ):
                    continue
                q.run(
                    "UPDATE deployments SET active = 0 WHERE name = ? AND version <> ?",
                    (name, version),
                )
            return _deployment((name, version, flow_name, text, user, now, True))
        raise MetadataError(f"Could not record deployment {name!r}: deployed concurrently.")

    def get_deployment(self, name: str) -> DeploymentRecord:
        with self._db.read() as q:
            row = q.one(
                f"SELECT {_DEPLOYMENT} FROM deployments WHERE name = ? AND active = 1", (name,)
            )
            if row is None:
                raise _deployment_not_found(q, name)
        return _deployment(row)

    def list_deployments(self) -> list[DeploymentRecord]:
        with self._db.read() as q:
            rows = q.all(f"SELECT {_DEPLOYMENT} FROM deployments WHERE active = 1 ORDER BY name")
        return [_deployment(row) for row in rows]

    def deployment_history(self, name: str) -> list[DeploymentRecord]:
        with self._db.read() as q:
            rows = q.all(
                f"SELECT {_DEPLOYMENT} FROM deployments WHERE name = ? ORDER BY version DESC",
                (name,),
            )
            if not rows:
                raise _deployment_not_found(q, name)
        return [_deployment(row) for row in rows]

    def undeploy(self, name: str) -> DeploymentRecord:
        with self._db.write() as q:
            row = q.one(
                f"SELECT {_DEPLOYMENT} FROM deployments WHERE name = ? AND active = 1", (name,)
            )
            if row is None:
                raise _deployment_not_found(q, name)
            q.run("UPDATE deployments SET active = 0 WHERE name = ?", (name,))
        return _deployment((*row[:6], 0))

    # -- fires ----------------------------------------------------------------------------
    def claim_fire(
        self,
        deployment: str,
        fire_key: str,
        *,
        version: int,
        holder: str,
        trigger: Mapping[str, Any] | None = None,
    ) -> bool:
        text = _json(trigger or {}, "A fire's trigger")
        with self._db.write() as q:
            return bool(
                q.run(
                    f"INSERT INTO deployment_fires ({_FIRE}) VALUES (?, ?, ?, ?, ?, ?, NULL)"
                    " ON CONFLICT (deployment, fire_key) DO NOTHING",
                    (deployment, fire_key, version, holder, self._clock(), text),
                )
            )

    def set_fire_run(self, deployment: str, fire_key: str, run_id: str) -> None:
        with self._db.write() as q:
            if not q.run(
                "UPDATE deployment_fires SET run_id = ? WHERE deployment = ? AND fire_key = ?",
                (run_id, deployment, fire_key),
            ):
                raise NotFoundError(
                    f"Deployment {deployment!r} has no claimed fire {fire_key!r}.",
                    pathspec=f"{deployment}/{fire_key}",
                )

    def list_fires(
        self,
        deployment: str,
        *,
        prefix: str = "",
        unstarted: bool = False,
        limit: int = 100,
    ) -> list[FireRecord]:
        where = "deployment = ? AND fire_key >= ? AND fire_key < ?"
        if unstarted:
            where += " AND run_id IS NULL"
        # every key starting with prefix sorts between prefix and prefix + U+FFFF
        params = (deployment, prefix, prefix + "\uffff", int(limit))
        with self._db.read() as q:
            rows = q.all(
                f"SELECT {_FIRE} FROM deployment_fires WHERE {where}"
                " ORDER BY fire_key DESC LIMIT ?",
                params,
            )
        return [_fire(row) for row in rows]

    # -- events ---------------------------------------------------------------------------
    def publish_event(self, name: str, payload: Mapping[str, Any], *, user: str) -> EventRecord:
        if not isinstance(name, str) or not name.strip() or not name.isprintable():
            raise MetadataError(f"Invalid event name {name!r}: expected one printable word.")
        text = _json(payload, "An event's payload")
        now = self._clock()
        with self._db.write() as q:
            row = q.one(
                "INSERT INTO events (name, payload, published_by, published_at)"
                " VALUES (?, ?, ?, ?) RETURNING event_id",
                (name, text, user, now),
            )
        return _event((row[0], name, text, user, now))

    def events_after(self, event_id: int, *, limit: int = 1000) -> list[EventRecord]:
        with self._db.read() as q:
            rows = q.all(
                f"SELECT {_EVENT} FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?",
                (int(event_id), int(limit)),
            )
        return [_event(row) for row in rows]

    # -- leases ---------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, seconds: float) -> bool:
        now = self._clock()
        with self._db.write() as q:
            row = q.one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
            if row is None:
                return bool(
                    q.run(
                        "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (name) DO NOTHING",
                        (name, holder, now + seconds),
                    )
                )
            if row[0] != holder and row[1] > now:
                return False
            return bool(
                q.run(
                    "UPDATE leases SET holder = ?, expires_at = ?"
                    " WHERE name = ? AND holder = ? AND expires_at = ?",
                    (holder, now + seconds, name, row[0], row[1]),
                )
            )

    def release_lease(self, name: str, holder: str) -> None:
        with self._db.write() as q:
            q.run("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str) -> str | None:
        with self._db.read() as q:
            row = q.one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
        return row[0] if row is not None and row[1] > self._clock() else None


def _deployment_not_found(q: Query, name: str) -> NotFoundError:
    names = [r[0] for r in q.all("SELECT name FROM deployments WHERE active = 1 ORDER BY name")]
    return NotFoundError(
        f"There is no deployment named {name!r}."
        + _did_you_mean(name, names)
        + (_listing("Deployments", names) or " Nothing is deployed.")
        + " Deploy a flow with: python flow.py deploy",
        pathspec=name,
        candidates=names,
    )
