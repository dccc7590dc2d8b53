"""The metadata store interface every backend implements."""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import MetadataError
from stepwell.metadata._records import ArtifactRecord, RunRecord, TaskRecord

if TYPE_CHECKING:
    from stepwell.metadata._launches import TaskLaunch, TaskOutcome
    from stepwell.metadata._service_records import (
        DeploymentRecord,
        EventRecord,
        FireRecord,
        TokenRecord,
    )


class MetadataStore(abc.ABC):
    """Records runs, tasks, artifacts and lineage; answers queries about them.

    Identifiers: ``flow_name``; ``run_id`` (the text of a positive integer from
    a database sequence: unique and increasing across concurrent processes);
    ``step_name``; ``task_id`` (chosen by the caller, unique within a run);
    ``attempt`` (0, 1, ...). Timestamps are UTC epoch seconds (``float``).

    Every write is one transaction. Unknown objects raise
    :class:`~stepwell.exceptions.NotFoundError` naming the pathspec.
    """

    # -- runs: writes -------------------------------------------------------

    @abc.abstractmethod
    def new_run(
        self,
        flow_name: str,
        *,
        user: str,
        tags: Sequence[str],
        system_tags: Sequence[str],
        parameters: Mapping[str, str],
        pid: int | None,
        host: str | None,
        origin_run_id: str | None = None,
        code_key: str | None = None,
        run_id: str | None = None,
        datastore: str | None = None,
        run_key: str | None = None,
    ) -> str:
        """Create a run (and its flow if new) with status ``running``; return its id.

        ``run_key`` (an orchestrator's id of the run, e.g. ``argo-<workflow uid>``):
        if a run of ``flow_name`` was already recorded under that key, its id is
        returned and nothing is written; else the new run is recorded under it, in
        the same transaction (two tasks racing to create it get one run).
        ``pid`` None means no local process drives the run (an orchestrator does):
        its liveness is not judged by heartbeats, and the orchestrator ends it.

        ``run_id`` chooses the id (a positive whole number not in use by any flow);
        by default the next one is taken. ``code_key`` is the blob key of the run's
        code package; ``datastore`` where the run's blobs live (a local path or
        ``s3://bucket/prefix``), so readers open the same place.

        ``parameters`` maps each parameter name to its value as JSON text.
        """

    def run_id_of_key(self, flow_name: str, run_key: str) -> str | None:
        """The id of the run of ``flow_name`` recorded under ``run_key``; None if none is."""
        raise MetadataError(
            f"This metadata store ({type(self).__name__}) keeps no run keys: orchestrated runs "
            "need a SQL metadata store (SQLite or PostgreSQL).",
            store=type(self).__name__,
        )

    @abc.abstractmethod
    def heartbeat(self, flow_name: str, run_id: str) -> None:
        """Record that the run's scheduler is alive (call it every few seconds)."""

    @abc.abstractmethod
    def finish_run(
        self, flow_name: str, run_id: str, status: str, *, error: str | None = None
    ) -> None:
        """Mark a running run ``succeeded`` or ``failed``."""

    @abc.abstractmethod
    def add_tags(self, flow_name: str, run_id: str, tags: Sequence[str]) -> None:
        """Add user tags to a run (already present tags are kept once)."""

    @abc.abstractmethod
    def remove_tags(self, flow_name: str, run_id: str, tags: Sequence[str]) -> None:
        """Remove user tags from a run; system tags cannot be removed."""

    # -- tasks: writes ------------------------------------------------------

    @abc.abstractmethod
    def register_task(self, launch: TaskLaunch) -> None:
        """Record a task attempt as ``running`` when it is launched."""

    @abc.abstractmethod
    def register_tasks(self, launches: Sequence[TaskLaunch]) -> None:
        """Record many launched task attempts in one transaction."""

    @abc.abstractmethod
    def record_task(self, outcome: TaskOutcome) -> None:
        """Record a finished task attempt, its artifacts, lineage and metadata."""

    @abc.abstractmethod
    def record_tasks(self, outcomes: Sequence[TaskOutcome]) -> None:
        """Record many finished task attempts in one transaction (all or none)."""

    # -- reads ----------------------------------------------------------------

    @abc.abstractmethod
    def get_run(self, flow_name: str, run_id: str) -> RunRecord:
        """The run ``flow_name/run_id``."""

    @abc.abstractmethod
    def list_runs(
        self,
        flow_name: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        status: str | None = None,
        tags: Sequence[str] = (),
        user: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[RunRecord]:
        """The flow's runs, newest first.

        Filters combine with AND: ``status`` (as reported, liveness included),
        every one of ``tags`` (user or system), ``user``, and
        ``since <= started_at < until``. An unknown flow gives an empty list.
        """

    @abc.abstractmethod
    def latest_run(
        self, flow_name: str, *, successful_only: bool = False, user: str | None = None
    ) -> RunRecord | None:
        """The newest run of the flow (optionally only succeeded ones, or one user's)."""

    @abc.abstractmethod
    def list_flows(self) -> list[str]:
        """Names of all flows with at least one run, sorted."""

    @abc.abstractmethod
    def list_steps(self, flow_name: str, run_id: str) -> list[str]:
        """Steps of the run that have tasks, in the order they first started."""

    @abc.abstractmethod
    def list_tasks(
        self, flow_name: str, run_id: str, step_name: str | None = None
    ) -> list[TaskRecord]:
        """The latest attempt of each task of the run (or of one step), in launch order."""

    @abc.abstractmethod
    def get_task(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> TaskRecord:
        """One attempt of a task; the latest one when ``attempt`` is ``None``."""

    @abc.abstractmethod
    def list_artifacts(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> dict[str, ArtifactRecord]:
        """The artifacts of a task attempt (the latest one by default), by name."""

    @abc.abstractmethod
    def readers_of(self, flow_name: str, run_id: str, name: str, blob_key: str) -> list[TaskRecord]:
        """The tasks of a run that read artifact ``name`` stored as ``blob_key``."""

    @abc.abstractmethod
    def artifacts_of_tasks(
        self, flow_name: str, run_id: str, task_ids: Sequence[str]
    ) -> dict[str, dict[str, ArtifactRecord]]:
        """The artifacts of many tasks (latest attempts) at once: task id -> name -> record.

        For a join over thousands of inputs: a few queries instead of one per input.
        """

    @abc.abstractmethod
    def get_task_metadata(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> dict[str, str]:
        """The metadata of a task attempt (the latest one by default): name -> JSON text."""

    @abc.abstractmethod
    def parent_tasks(
        self, flow_name: str, run_id: str, step_name: str, task_id: str
    ) -> list[TaskRecord]:
        """The tasks whose outputs this task consumed (latest attempts)."""

    @abc.abstractmethod
    def child_tasks(
        self, flow_name: str, run_id: str, step_name: str, task_id: str
    ) -> list[TaskRecord]:
        """The tasks that consumed this task's outputs (latest attempts)."""

    def check(self) -> None:  # noqa: B027 - a store that opens without a server needs no check
        """Raise :class:`~stepwell.exceptions.MetadataError` if the store cannot be used.

        One connection, opened and closed (no pool, no thread): a run calls it
        at start so a wrong URL or a missing schema stops it before any work.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release this process's connection; the store reopens it on next use."""

    # -- accounts: the UI server's API tokens (optional capability) -------------

    def new_token(self, user: str, *, note: str | None = None) -> tuple[TokenRecord, str]:
        """Create an API token for ``user``; return its record and its secret.

        The secret (``swt_`` and 43 random URL-safe characters) is returned
        this once: the store keeps only its SHA-256 hash. ``user`` is a name
        without whitespace or control characters; ``note`` says what the
        token is for (one line).
        """
        raise self._no_accounts()

    def list_tokens(
        self, *, user: str | None = None, include_revoked: bool = False
    ) -> list[TokenRecord]:
        """The tokens (of ``user``, if given), oldest first; revoked ones only if asked."""
        raise self._no_accounts()

    def revoke_token(self, token_id: str) -> TokenRecord:
        """Revoke a token: it is refused from now on. Revoking it again changes nothing.

        An unknown id raises :class:`~stepwell.exceptions.NotFoundError`
        naming it and listing the ids that exist.
        """
        raise self._no_accounts()

    def check_token(self, secret: str) -> TokenRecord | None:
        """The valid token whose secret this is, or ``None`` (unknown, malformed or revoked).

        Records ``last_used_at`` when it is unset or older than
        :data:`~stepwell.metadata._records.TOKEN_LAST_USED_RESOLUTION` seconds,
        so a page load is not one write per request.
        """
        raise self._no_accounts()

    def has_tokens(self) -> bool:
        """Whether any token was ever created, revoked ones included.

        Once accounts are in use, the UI server never falls back to serving
        without sign-in, even after every token is revoked.
        """
        raise self._no_accounts()

    def _no_accounts(self) -> MetadataError:
        return MetadataError(
            f"This metadata store ({type(self).__name__}) keeps no accounts: API tokens "
            "for 'stepwell server' need a SQL metadata store (SQLite or PostgreSQL).",
            store=type(self).__name__,
        )

    # -- the local scheduler: deployments, fires, events, leases (optional) --------------

    def save_deployment(
        self, name: str, flow_name: str, spec: Mapping[str, Any], *, user: str
    ) -> DeploymentRecord:
        """Record a new version of deployment ``name`` and make it the active one.

        ``spec`` (a JSON object) says what the version runs and when. Earlier
        versions are kept, inactive (:meth:`deployment_history`).
        """
        raise self._no_scheduling()

    def get_deployment(self, name: str) -> DeploymentRecord:
        """The active version of ``name``; NotFoundError (naming the deployed ones) if none."""
        raise self._no_scheduling()

    def list_deployments(self) -> list[DeploymentRecord]:
        """The active version of every deployment, by name."""
        raise self._no_scheduling()

    def deployment_history(self, name: str) -> list[DeploymentRecord]:
        """Every version of ``name``, newest first (undeployed ones included)."""
        raise self._no_scheduling()

    def undeploy(self, name: str) -> DeploymentRecord:
        """Take ``name`` out of service (its history stays); the version that was active."""
        raise self._no_scheduling()

    def claim_fire(
        self,
        deployment: str,
        fire_key: str,
        *,
        version: int,
        holder: str,
        trigger: Mapping[str, Any] | None = None,
    ) -> bool:
        """Claim one fire of a deployment for ``holder``: True once per (deployment, key).

        ``trigger`` (a JSON object) is what fired it, kept with the claim.
        """
        raise self._no_scheduling()

    def set_fire_run(self, deployment: str, fire_key: str, run_id: str) -> None:
        """Record the run a claimed fire started."""
        raise self._no_scheduling()

    def list_fires(
        self, deployment: str, *, prefix: str = "", unstarted: bool = False, limit: int = 100
    ) -> list[FireRecord]:
        """Fires of ``deployment`` whose key starts with ``prefix``, greatest key first;
        only those without a run when ``unstarted``."""
        raise self._no_scheduling()

    def publish_event(self, name: str, payload: Mapping[str, Any], *, user: str) -> EventRecord:
        """Record an event (its payload a JSON object); its id is greater than every earlier one."""
        raise self._no_scheduling()

    def events_after(self, event_id: int, *, limit: int = 1000) -> list[EventRecord]:
        """Events with an id greater than ``event_id``, oldest first."""
        raise self._no_scheduling()

    def acquire_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew lease ``name`` for ``seconds``: False while another holder has it."""
        raise self._no_scheduling()

    def release_lease(self, name: str, holder: str) -> None:
        """Give lease ``name`` up, if ``holder`` has it."""
        raise self._no_scheduling()

    def lease_holder(self, name: str) -> str | None:
        """Who holds lease ``name`` now (None: nobody, or it expired)."""
        raise self._no_scheduling()

    def _no_scheduling(self) -> MetadataError:
        return MetadataError(
            f"This metadata store ({type(self).__name__}) keeps no deployments: the local "
            "scheduler needs a SQL metadata store (SQLite or PostgreSQL).",
            store=type(self).__name__,
        )

    # -- the step cache: @cache finds an earlier task with the same key (optional) ------

    def find_cached_task(
        self, flow_name: str, step_name: str, cache_key: str, *, since: float | None = None
    ) -> TaskRecord | None:
        """The newest successful task of ``flow_name``'s step ``step_name`` whose task
        metadata entry ``cache_key`` is ``cache_key`` (stored as JSON text: a JSON string),
        of any run, finished at or after ``since`` when given; else ``None``.

        Only the attempt that succeeded counts: a failed attempt is never returned.
        A store that keeps no such index returns ``None`` (every @cache step runs).
        """
        return None

    # -- garbage collection: deleting runs and marking their blobs (optional) --------------

    def delete_runs(self, flow_name: str, run_ids: Sequence[str]) -> list[str]:
        """Delete runs of ``flow_name`` and all their records (tags, tasks, lineage,
        artifacts, reads, task metadata) in one transaction; return the ids deleted.

        A run still running (stored ``running`` with a fresh heartbeat) is never
        deleted, and unknown ids are skipped: both are left out of the result.
        Blobs are not touched: ``stepwell gc`` frees those no run refers to.
        """
        raise self._no_gc()

    def blob_references(self, *, exclude: Collection[str] = ()) -> Iterator[str]:
        """Every blob key the records of the runs refer to, except runs ``exclude``.

        The keys of artifacts (written and read), of code packages (``code_key``),
        and every 64-hex-digit token in task metadata values (cards, foreach
        items): the mark phase of garbage collection. Keys may repeat. Runs are
        read in chunks, so memory holds one chunk's rows, and runs begun while
        the keys are read are included.
        """
        raise self._no_gc()

    def _no_gc(self) -> MetadataError:
        return MetadataError(
            f"This metadata store ({type(self).__name__}) cannot delete runs: 'stepwell gc' "
            "needs a SQL metadata store (SQLite or PostgreSQL).",
            store=type(self).__name__,
        )
