"""The local scheduler: deployments, and runs of them on ``@schedule``, events and upstream runs.

``stepwell scheduler`` is a long-running process that wakes up, asks each
deployed flow's :class:`Schedule` whether a slot is due, and starts a run for
it. Its modules keep these rules:

- No clock of its own: every function takes the time it reasons about, so the
  schedule math is a pure state machine that tests drive with fixed times.
- The daemon's state (last fire, deployment time) lives in the metadata store,
  never in memory only: a restarted scheduler picks up where it stopped, and
  after downtime a missed slot runs once, not once per missed slot.
- Runs start from the deployed code package, never from the working tree.
- Integrations are imported late: ``croniter`` is imported inside the
  functions that need it, and a missing one says how to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes

if TYPE_CHECKING:
    from stepwell.scheduler._daemon import SchedulerDaemon
    from stepwell.scheduler._schedule import Schedule
    from stepwell.scheduler._service import (
        deploy_flow,
        deployment_statuses,
        publish_event,
        trigger_now,
    )

#: Imported when first used: a compiler reading a deployment plan loads no daemon.
_LAZY = {
    "SchedulerDaemon": "_daemon", "Schedule": "_schedule", "deploy_flow": "_service",
    "deployment_statuses": "_service", "publish_event": "_service", "trigger_now": "_service",
}  # fmt: skip


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "Schedule",
    "SchedulerDaemon",
    "deploy_flow",
    "deployment_statuses",
    "publish_event",
    "trigger_now",
]
