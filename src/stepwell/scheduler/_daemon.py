"""``stepwell scheduler``: one process that starts deployed flows' runs, exactly once each.

Every tick (half a second by default) the process that holds the
``scheduler`` lease in the metadata store — a second scheduler started by
mistake waits for it — looks at each active deployment:

- ``@schedule``: the latest due slot (:meth:`Schedule.due`: missed slots run
  once), unless the deployment's previous scheduled run is still going;
- ``@trigger``: events published since the last one it consumed (all of its
  events, when it lists several), including those published while no
  scheduler ran;
- ``@trigger_on_finish``: successful runs of the upstream flow (in the same
  project branch) newer than the deployment.

Each reason is a *fire*, claimed once in the metadata store before its run
starts; its run then marks itself as that fire's (``stepwell.runtime._fired``).
After a restart, fires claimed but never started are started. One log line per
decision, with the ids involved. The clock is injectable (``clock``): tests
drive the schedule with a file that holds the time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stepwell._crashpoints import crash_point
from stepwell.metadata import DeploymentRecord
from stepwell.runtime._fired import PENDING, pid_alive
from stepwell.scheduler._deploy import EVENT_ID_WIDTH
from stepwell.scheduler._schedule import Schedule
from stepwell.scheduler._start import start_run

LEASE = "scheduler"


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class SchedulerDaemon:
    """The loop of ``stepwell scheduler`` (see the module docstring)."""

    def __init__(
        self,
        metadata: Any,
        home: Path,
        *,
        clock: Callable[[], float] = time.time,
        tick: float = 0.5,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.metadata = metadata
        self.home = home
        self.clock = clock
        self.tick = tick
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._children: dict[int, tuple[subprocess.Popen[bytes], str, str]] = {}
        self._leading = False
        self._event_cursor = 0
        self._failing: dict[str, str] = {}  # deployment -> its last error, said once
        # read from the store when the lease is taken, kept up to date while it is held:
        self._last_slot: dict[str, datetime | None] = {}
        self._first_deployed: dict[str, float] = {}
        self._next_check: dict[str, float] = {}  # clock time before which no slot is due
        self._schedules: dict[str, tuple[int, Schedule]] = {}  # name -> (version, schedule)

    def log(self, line: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._log(f"{stamp} {line}")

    # -- the loop ---------------------------------------------------------------------------
    def serve(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set; the lease is given up on the way out."""
        self.log(f"scheduler {self.holder} started (home {self.home}, tick {self.tick:g} s)")
        try:
            while not stop.is_set():
                self.tick_once()
                stop.wait(self.tick)
        finally:
            with contextlib.suppress(Exception):
                self.metadata.release_lease(LEASE, self.holder)
            self.log(f"scheduler {self.holder} stopped")

    def tick_once(self) -> None:
        """One round: hold the lease, then look at every deployment."""
        self._reap()
        if not self.metadata.acquire_lease(LEASE, self.holder, max(10.0, 6 * self.tick)):
            if self._leading or not hasattr(self, "_waiting_said"):
                holder = self.metadata.lease_holder(LEASE)
                self.log(f"waiting: scheduler {holder} holds the lease")
                self._waiting_said = True
            self._leading = False
            return
        deployments = self.metadata.list_deployments()
        if not self._leading:
            self.log(f"lease taken: serving {len(deployments)} deployment(s)")
            self._leading = True
            self._event_cursor = 0  # events published while no scheduler ran are read too
            self._last_slot.clear()
            self._first_deployed.clear()
            self._next_check.clear()
            self._recover(deployments)
        events = self._new_events()
        for deployment in deployments:
            try:
                self._serve_one(deployment, events)
            except Exception as exc:  # one broken deployment never stops the others
                self._failed(deployment, exc)

    def _serve_one(self, deployment: DeploymentRecord, events: list[Any]) -> None:
        self._scheduled(deployment)
        if deployment.spec.get("events") and events:
            self._evented(deployment, events)
        if deployment.spec.get("after_flows"):
            self._after_upstream(deployment)
        self._failing.pop(deployment.name, None)

    def _failed(self, deployment: DeploymentRecord, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if self._failing.get(deployment.name) != text:
            self.log(f"deployment {deployment.name} v{deployment.version} failed: {text}")
            self._failing[deployment.name] = text

    # -- schedules --------------------------------------------------------------------------
    def _scheduled(self, deployment: DeploymentRecord) -> None:
        written = deployment.spec.get("schedule")
        if not written:
            return
        name = deployment.name
        schedule = self._schedule_of(deployment, written)
        if name not in self._last_slot:
            last = self.metadata.list_fires(name, prefix="schedule:", limit=1)
            self._last_slot[name] = datetime.fromisoformat(last[0].fire_key[9:]) if last else None
            self._first_deployed[name] = self.metadata.deployment_history(name)[-1].deployed_at
            self._next_check.pop(name, None)
        now = self.clock()
        if now < self._next_check.get(name, 0.0):
            return  # no slot before then: an idle tick costs one comparison
        first = self._first_deployed[name]
        slot = schedule.due(self._last_slot[name], _utc(first), _utc(now))
        if slot is None:
            after = self._last_slot[name] or _utc(first)
            self._next_check[name] = schedule.next_fire(max(after, _utc(now))).timestamp()
            return
        last = self.metadata.list_fires(name, prefix="schedule:", limit=1)
        if last and self._still_running(deployment, last[0]):
            return  # no overlap: the latest missed slot fires once this run ends
        key = f"schedule:{slot.isoformat()}"
        trigger = {
            "events": [
                {
                    "type": "schedule",
                    "name": "schedule",
                    "id": slot.isoformat(),
                    "timestamp": slot.timestamp(),
                }
            ]
        }
        self._fire(deployment, key, trigger)
        self._last_slot[name] = slot
        self._next_check.pop(name, None)

    def _schedule_of(self, deployment: DeploymentRecord, written: dict[str, str]) -> Schedule:
        cached = self._schedules.get(deployment.name)
        if cached is None or cached[0] != deployment.version:
            cached = (deployment.version, Schedule(written["cron"], written["timezone"]))
            self._schedules[deployment.name] = cached
            self._next_check.pop(deployment.name, None)
        return cached[1]

    def _still_running(self, deployment: DeploymentRecord, fire: Any) -> bool:
        run_id = fire.run_id
        if run_id is None:
            return True  # claimed, not started yet
        if run_id.startswith(PENDING):
            return pid_alive(int(run_id[len(PENDING) :]))
        run = self.metadata.get_run(deployment.flow_name, run_id)
        return bool(run.status == "running")

    # -- events -----------------------------------------------------------------------------
    def _new_events(self) -> list[Any]:
        found = self.metadata.events_after(self._event_cursor, limit=10_000)
        if found:
            self._event_cursor = found[-1].event_id
        return found

    def _evented(self, deployment: DeploymentRecord, new: list[Any]) -> None:
        wanted = [e["name"] for e in deployment.spec["events"]]
        if not any(e.name in wanted for e in new):
            return
        last = self.metadata.list_fires(deployment.name, prefix="event:", limit=1)
        consumed = int(last[0].fire_key[6:]) if last else 0
        since = deployment.deployed_at
        arrived = [e for e in self.metadata.events_after(consumed, limit=100_000)
                   if e.name in wanted and e.published_at >= since]  # fmt: skip
        if len(set(wanted)) == 1:  # one event name: a run for each event, in order
            for event in arrived:
                self._fire_events(deployment, [event])
            return
        latest = {event.name: event for event in arrived}
        if len(latest) < len(set(wanted)):
            return  # @trigger(events=[...]): every one of them must have come
        self._fire_events(deployment, sorted(latest.values(), key=lambda e: e.event_id))

    def _fire_events(self, deployment: DeploymentRecord, chosen: list[Any]) -> None:
        key = f"event:{chosen[-1].event_id:0{EVENT_ID_WIDTH}d}"
        trigger = {
            "events": [
                {
                    "type": "event",
                    "name": e.name,
                    "id": str(e.event_id),
                    "timestamp": e.published_at,
                    "payload": e.payload,
                }
                for e in chosen
            ]
        }
        self._fire(deployment, key, trigger)

    # -- upstream runs ------------------------------------------------------------------------
    def _after_upstream(self, deployment: DeploymentRecord) -> None:
        for upstream in deployment.spec["after_flows"]:
            flow, branch = upstream["flow"], upstream.get("branch")
            tags = [f"project_branch:{branch}"] if branch else []
            runs = self.metadata.list_runs(
                flow, status="succeeded", tags=tags, since=deployment.deployed_at, limit=20
            )
            for run in reversed(runs):  # oldest first
                key = f"finish:{flow}/{run.run_id}"
                trigger = {
                    "events": [
                        {
                            "type": "run",
                            "name": flow,
                            "id": f"{flow}/{run.run_id}",
                            "timestamp": run.finished_at or 0.0,
                        }
                    ]
                }
                self._fire(deployment, key, trigger)

    # -- starting runs --------------------------------------------------------------------
    def _fire(self, deployment: DeploymentRecord, key: str, trigger: dict[str, Any]) -> None:
        if not self.metadata.claim_fire(
            deployment.name, key, version=deployment.version, holder=self.holder, trigger=trigger
        ):
            return  # claimed before (by this scheduler or another): its run exists
        self.log(f"fire {deployment.name} {key}: claimed")
        crash_point("scheduler.after-claim")
        self._start(deployment, key, trigger)

    def _start(self, deployment: DeploymentRecord, key: str, trigger: dict[str, Any]) -> None:
        proc = start_run(
            self.home, deployment, key, trigger, log_dir=self.home / "deployments" / "logs"
        )
        crash_point("scheduler.after-start")
        self.metadata.set_fire_run(deployment.name, key, f"{PENDING}{proc.pid}")
        self._children[proc.pid] = (proc, deployment.name, key)
        self.log(
            f"fire {deployment.name} {key}: run started (pid {proc.pid}, v{deployment.version})"
        )

    def _recover(self, deployments: list[DeploymentRecord]) -> None:
        """Fires claimed but never started (a scheduler died in between): start them now."""
        for deployment in deployments:
            for fire in self.metadata.list_fires(deployment.name, limit=100):
                run_id = fire.run_id
                stranded = run_id is None or (
                    run_id.startswith(PENDING) and not pid_alive(int(run_id[len(PENDING) :]))
                )
                if stranded:
                    self.log(
                        f"fire {deployment.name} {fire.fire_key}: claimed but not "
                        "started; starting it"
                    )
                    self._start(deployment, fire.fire_key, fire.trigger)

    def _reap(self) -> None:
        for pid, (proc, name, key) in list(self._children.items()):
            code = proc.poll()
            if code is None:
                continue
            del self._children[pid]
            self.log(f"fire {name} {key}: run process {pid} ended (exit {code})")
