"""Retention: which runs ``stepwell gc`` deletes and which it keeps, and why.

A pure function of the runs' records, the policy and the time. A run is
deleted only when the policy asks for it *and* nothing protects it:

- ``keep_last=N``: a flow's N newest runs (any status) are kept;
- ``older_than_days=D``: only runs started more than D days ago go;
- both given: a run goes only when both say so (beyond the N newest *and*
  older than D days).

Protected whatever the policy says:

- a run still running (its scheduler's heartbeat is fresh);
- a run tagged ``keep`` (``stepwell tag add FLOW/RUN keep``);
- the latest successful run of each flow: ``Flow.latest_successful_run``
  is what downstream flows and deployments read, so it never disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stepwell.exceptions import StepwellError
from stepwell.metadata import RunRecord

#: The user tag that protects a run from garbage collection.
KEEP_TAG = "keep"
#: Why a run the policy would delete is kept.
RUNNING, TAGGED, LATEST_SUCCESSFUL = "running", f"tagged '{KEEP_TAG}'", "latest successful"
_DAY = 86_400.0


class RetentionError(StepwellError, ValueError):
    headline = "No retention policy"


@dataclass(frozen=True)
class Retention:
    """What ``stepwell gc`` keeps: the N newest runs per flow and/or runs younger than D days."""

    keep_last: int | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.keep_last is not None and self.keep_last < 1:
            raise RetentionError(
                f"keep_last must be at least 1 (a flow's newest run is always kept), "
                f"got {self.keep_last}."
            )
        if self.older_than_days is not None and self.older_than_days < 0:
            raise RetentionError(f"older_than_days must be 0 or more, got {self.older_than_days}.")

    @property
    def is_set(self) -> bool:
        return self.keep_last is not None or self.older_than_days is not None

    def describe(self) -> str:
        parts = []
        if self.keep_last is not None:
            parts.append(f"keep each flow's {self.keep_last} newest run(s)")
        if self.older_than_days is not None:
            parts.append(f"delete only runs started more than {self.older_than_days:g} days ago")
        return "; ".join(parts) or "no policy"


@dataclass
class FlowPlan:
    """One flow's runs, split: the ids to delete, and the kept count by reason."""

    flow_name: str
    delete: list[RunRecord] = field(default_factory=list)
    kept: int = 0
    protected: dict[str, int] = field(default_factory=dict)


def plan_flow(
    flow_name: str, runs: Sequence[RunRecord], retention: Retention, *, now: float
) -> FlowPlan:
    """Split ``runs`` (one flow's, any order) into deleted and kept under ``retention``."""
    if not retention.is_set:
        raise RetentionError(
            "stepwell gc needs a retention policy: --keep-last N and/or --older-than DAYS, "
            "or the settings gc_keep_last / gc_older_than_days."
        )
    newest_first = sorted(runs, key=lambda r: int(r.run_id), reverse=True)
    latest_ok = next((r.run_id for r in newest_first if r.status == "succeeded"), None)
    plan = FlowPlan(flow_name)
    for rank, run in enumerate(newest_first):
        if not _policy_deletes(run, rank, retention, now):
            plan.kept += 1
            continue
        reason = _protection(run, latest_ok)
        if reason is None:
            plan.delete.append(run)
        else:
            plan.kept += 1
            plan.protected[reason] = plan.protected.get(reason, 0) + 1
    return plan


def _policy_deletes(run: RunRecord, rank: int, retention: Retention, now: float) -> bool:
    if retention.keep_last is not None and rank < retention.keep_last:
        return False
    if retention.older_than_days is not None:
        return run.started_at < now - retention.older_than_days * _DAY
    return True


def _protection(run: RunRecord, latest_ok: str | None) -> str | None:
    if run.status == "running":
        return RUNNING
    if KEEP_TAG in run.tags or KEEP_TAG in run.system_tags:
        return TAGGED
    if run.run_id == latest_ok:
        return LATEST_SUCCESSFUL
    return None


def deleted_ids(plans: Iterable[FlowPlan]) -> set[str]:
    """The ids of every run the plans delete."""
    return {run.run_id for plan in plans for run in plan.delete}
