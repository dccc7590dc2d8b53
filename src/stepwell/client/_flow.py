"""``Metaflow`` (all flows) and ``Flow`` (one flow's runs, newest first)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from stepwell.client._base import ClientObject, to_datetime
from stepwell.client._errors import (
    NamespaceMismatchError,
    describe_namespace,
    in_namespace,
)
from stepwell.client._namespace import get_namespace
from stepwell.client._tags import check_tags

if TYPE_CHECKING:
    from stepwell.client._run import Run

#: Runs fetched per query while iterating over a flow.
PAGE_SIZE = 200
_STATUSES = ("running", "succeeded", "failed")


class Metaflow:
    """The root of the hierarchy: every flow with a run in the current namespace.

    Example:
        >>> Metaflow().flows  # doctest: +SKIP
        [Flow('HelloFlow'), Flow('TrainFlow')]
    """

    def __init__(self) -> None:
        self._ns = get_namespace()

    @property
    def flows(self) -> list[Flow]:
        """Flows with at least one run in the current namespace, sorted by name."""
        return list(self)

    def __iter__(self) -> Iterator[Flow]:
        from stepwell.client._backend import get_backend

        for name in get_backend().metadata.list_flows():
            flow = Flow._child((name,), self._ns, None)
            if flow.is_in_namespace():
                yield flow

    def __repr__(self) -> str:
        return "Metaflow()"

    __str__ = __repr__


class Flow(ClientObject):
    """A flow: the container of its runs, newest first.

    ``Flow('HelloFlow')`` raises :class:`~stepwell.exceptions.NotFoundError`
    when no run of it was recorded, and
    :class:`~stepwell.client.NamespaceMismatchError` when none is in the
    current namespace.
    """

    _DEPTH = 1
    _KIND = "Flow"

    def _resolve(self, *, check: bool) -> None:
        runs = self._latest(limit=1)  # raises NotFoundError for an unknown flow
        if check and not runs:
            raise self._mismatch()

    def _latest(self, limit: int, **filters: Any) -> list[Any]:
        tags = list(filters.pop("tags", ()))
        if self._ns is not None:
            tags.append(self._ns)
        with in_namespace(self._ns):
            return list(
                self._backend.metadata.list_runs(self.id, limit=limit, tags=tags, **filters)
            )

    def _mismatch(self) -> NamespaceMismatchError:
        owners = sorted(
            {t for r in self._backend.metadata.list_runs(self.id, limit=20) for t in r.system_tags
             if t.startswith("user:")}
        )  # fmt: skip
        hint = f" (its latest runs are in: {', '.join(owners)})" if owners else ""
        return NamespaceMismatchError(
            f"Flow '{self.id}' exists, but none of its runs is in the current "
            f"{describe_namespace(self._ns)}{hint}.\n"
            "Switch with namespace(None) to see every namespace"
            + (f", or namespace({owners[0]!r})." if owners else "."),
            pathspec=self.id,
            namespace=self._ns,
        )

    def is_in_namespace(self) -> bool:
        """Whether at least one run of the flow is in the namespace."""
        return self._ns is None or bool(self._latest(limit=1))

    @property
    def tags(self) -> frozenset[str]:
        """Flows have no tags of their own (runs do): always empty."""
        return frozenset()

    # -- runs -----------------------------------------------------------------------

    @property
    def latest_run(self) -> Run | None:
        """The newest run in the namespace (running, succeeded or failed), or ``None``."""
        return self._first(self._latest(limit=1))

    @property
    def latest_successful_run(self) -> Run | None:
        """The newest succeeded run in the namespace, or ``None``."""
        return self._first(self._latest(limit=1, status="succeeded"))

    def _first(self, records: list[Any]) -> Run | None:
        from stepwell.client._run import Run

        return Run._child((self.id, records[0].run_id), self._ns, records[0]) if records else None

    def runs(
        self,
        *tags: str,
        status: str | None = None,
        user: str | None = None,
        since: _dt.datetime | float | None = None,
        until: _dt.datetime | float | None = None,
        limit: int | None = None,
    ) -> Iterator[Run]:
        """The flow's runs in the namespace, newest first, that match every filter.

        Args:
            tags: runs carrying every one of these tags (user or system).
            status: ``"running"``, ``"succeeded"`` or ``"failed"``.
            user: runs started by this user.
            since: runs started at or after this time (a datetime, or epoch seconds).
            until: runs started before this time.
            limit: at most this many runs.

        Runs are read from the metadata store a page at a time, so stopping
        early reads little.

        Example:
            >>> for run in Flow("TrainFlow").runs("production", status="succeeded", limit=5):
            ...     print(run.id, run.created_at)  # doctest: +SKIP
        """
        filters = _run_filters(tags, status, user, since, until, limit)
        return self._paged(filters, limit)

    def _paged(self, filters: dict[str, Any], limit: int | None) -> Iterator[Run]:
        from stepwell.client._run import Run

        offset, returned, last_id = 0, 0, None
        while limit is None or returned < limit:
            page = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - returned)
            records = self._latest(limit=page, offset=offset, **filters)
            offset += len(records)
            for record in records:
                # Runs started meanwhile shift the pages: skip ids already returned.
                if last_id is not None and int(record.run_id) >= last_id:
                    continue
                last_id = int(record.run_id)
                returned += 1
                yield Run._child((self.id, record.run_id), self._ns, record)
            if len(records) < page:
                return

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    def __getitem__(self, run_id: str) -> Run:
        from stepwell.client._run import Run

        run = Run._child((self.id, str(run_id)), self._ns, None)
        run._resolve(check=True)
        return run

    # -- time -----------------------------------------------------------------------

    @property
    def created_at(self) -> _dt.datetime | None:
        """When the flow's first recorded run started."""
        metadata = self._backend.metadata
        first = metadata.list_runs(self.id, limit=1)
        if not first:
            return None
        # The oldest run is the last of the newest-first list: find its offset by
        # galloping then bisecting (each probe is one indexed query).
        low, high = 0, 1
        while metadata.list_runs(self.id, limit=1, offset=high):
            low, high = high, high * 2
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (
                (mid, high) if metadata.list_runs(self.id, limit=1, offset=mid) else (low, mid)
            )
        return to_datetime(metadata.list_runs(self.id, limit=1, offset=low)[0].started_at)

    @property
    def finished_at(self) -> _dt.datetime | None:
        """Flows do not finish (their runs do): always ``None``."""
        return None


def _epoch(value: _dt.datetime | float | None, name: str) -> float | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None if value is None else float(value)
    if isinstance(value, _dt.datetime):
        # A datetime holds microseconds; the store keeps float seconds. Shift by one
        # microsecond so that runs(since=run.created_at) includes that run and
        # runs(until=run.created_at) excludes it.
        return value.timestamp() - 1e-6
    raise TypeError(f"{name}= takes a datetime or epoch seconds, not {type(value).__name__}.")


def _run_filters(
    tags: Sequence[str],
    status: str | None,
    user: str | None,
    since: _dt.datetime | float | None,
    until: _dt.datetime | float | None,
    limit: int | None,
) -> dict[str, Any]:
    if status is not None and status not in _STATUSES:
        raise ValueError(
            f"Invalid status {status!r}: expected one of {', '.join(_STATUSES)} (or None)."
        )
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"Invalid limit {limit!r}: expected a whole number >= 0 (or None).")
    filters: dict[str, Any] = {"tags": check_tags(tags), "status": status, "user": user}
    filters["since"], filters["until"] = _epoch(since, "since"), _epoch(until, "until")
    return filters
