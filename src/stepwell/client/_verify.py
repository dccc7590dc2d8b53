"""Verifying stored runs: is every blob a run references there and whole? (``stepwell verify``)

For a selection of runs (every run, a flow's runs, or one run) the metadata is
read for every blob the runs reference: each task's artifacts (latest attempt;
inline artifacts have no blob and are skipped), the run's code package, each
task's cards and each foreach split's items. Task logs are not content-addressed
(nothing to hash) and are not checked. Each distinct blob is then read once, on
a pool of threads, however many runs reference it: its header, size and BLAKE3
hash are checked, and its size is compared with what the metadata recorded.

With ``repair``, a damaged blob is quarantined with a note naming the artifacts
that used it (:meth:`ContentStore.quarantine`): a Client read of such an
artifact then says that ``stepwell verify`` found it damaged, when, and to
re-run the task that produced it. A missing blob gets such a note too. A remote
datastore's blob is restored when this machine's cache holds a whole copy.
Quarantining does not bring content back: damage remains until the runs that
produced it are run again (the next save of the same value stores it anew).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from stepwell.exceptions import NotFoundError, StepwellError, StorageError

#: Task metadata names that hold blob keys (cards: ``card:<type>:<index>``, see stepwell.cards).
_CARD_PREFIX = "card:"
_TRANSITION = "transition"
_INLINE = "inline"  # the key of an artifact's meta holding its inline payload (store._artifacts)
DEFAULT_THREADS = 16

#: ``progress(blobs_done, blobs_total, bytes_read)``
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class BlobUse:
    """One reference of a run to a blob: what it is, and the payload size recorded (if any)."""

    what: str
    size: int | None = None


@dataclass
class Damage:
    """A blob of a run that is not whole.

    ``status``: ``missing``, ``damaged``, ``unreadable`` (the storage failed; try
    again), ``size`` (whole, but the metadata records another size) or ``invalid``
    (the metadata holds no valid key). ``repair``: what ``--repair`` did:
    ``quarantined``, ``noted`` (a missing blob: a note says so), ``restored`` (from
    this machine's cache) or ``""``.
    """

    key: str
    status: str
    reason: str
    uses: list[str]
    repair: str = ""

    @property
    def remains(self) -> bool:
        """Whether the run still lacks this content (only a restore brings it back)."""
        return self.repair != "restored"


@dataclass
class RunReport:
    """What verify found for one run."""

    pathspec: str
    datastore: str
    blobs: int = 0  # distinct blobs the run references
    inline: int = 0  # artifacts kept in the metadata (no blob)
    damage: list[Damage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.remains for d in self.damage)


@dataclass
class VerifyReport:
    """The result of :func:`verify_runs`."""

    runs: list[RunReport]
    blobs: int = 0  # distinct blobs read
    bytes_read: int = 0
    seconds: float = 0.0
    repaired: bool = False

    @property
    def damage_remains(self) -> bool:
        return not all(run.ok for run in self.runs)


def select_runs(metadata: Any, selection: str | None) -> list[Any]:
    """The runs ``selection`` names: None (every run), ``FLOW``, or ``FLOW/RUN_ID``."""
    if not selection:
        return [run for flow in metadata.list_flows() for run in metadata.list_runs(flow)]
    parts = selection.strip("/").split("/")
    if len(parts) > 2 or not all(parts):
        raise StepwellError(
            f"{selection!r} is not a flow or a run: use FLOW or FLOW/RUN_ID, e.g. TrainFlow/12."
        )
    flows = metadata.list_flows()
    if parts[0] not in flows:
        raise NotFoundError(
            f"Flow {parts[0]!r} has no runs in this metadata store. "
            f"Flows with runs: {', '.join(flows) or '(none)'}.",
            pathspec=parts[0],
        )
    if len(parts) == 2:
        return [metadata.get_run(parts[0], parts[1])]
    return list(metadata.list_runs(parts[0]))


def references(metadata: Any, run: Any) -> tuple[list[tuple[str, BlobUse]], int]:
    """``([(blob key, use), ...], inline artifact count)`` for one run."""
    flow, run_id = run.flow_name, run.run_id
    uses: list[tuple[str, BlobUse]] = []
    if run.code_key:
        uses.append((run.code_key, BlobUse(f"code package of run {run.pathspec}")))
    tasks = metadata.list_tasks(flow, run_id)
    artifacts = metadata.artifacts_of_tasks(flow, run_id, [t.task_id for t in tasks])
    inline = 0
    for task in tasks:
        for name, record in sorted(artifacts.get(task.task_id, {}).items()):
            if _INLINE in _json(record.meta):
                inline += 1
                continue
            uses.append((record.key, BlobUse(f"artifact {name!r} of {task.pathspec}", record.size)))
        uses.extend(_task_metadata_blobs(metadata, task))
    return uses, inline


def _task_metadata_blobs(metadata: Any, task: Any) -> Iterable[tuple[str, BlobUse]]:
    entries = metadata.get_task_metadata(task.flow_name, task.run_id, task.step_name, task.task_id)
    for name, text in sorted(entries.items()):
        if name.startswith(_CARD_PREFIX):
            card = _json(text)
            for part in ("key", "assets"):
                if card.get(part):
                    yield str(card[part]), BlobUse(f"card {name} ({part}) of {task.pathspec}")
        elif name == _TRANSITION and _json(text).get("items_key"):
            yield str(_json(text)["items_key"]), BlobUse(f"foreach items of {task.pathspec}")


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def verify_runs(
    metadata: Any,
    runs: list[Any],
    open_store: Callable[[str], Any],
    *,
    default_datastore: str,
    repair: bool = False,
    threads: int = DEFAULT_THREADS,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> VerifyReport:
    """Check every blob ``runs`` reference; with ``repair`` quarantine damaged ones.

    ``open_store(datastore_url)`` returns the :class:`~stepwell.store.ContentStore`
    of a run's datastore (runs that recorded none use ``default_datastore``).
    """
    started = clock()
    reports: list[RunReport] = []
    wanted: dict[tuple[str, str], list[tuple[RunReport, BlobUse]]] = {}
    for run in runs:
        datastore = run.datastore or default_datastore
        report = RunReport(run.pathspec, datastore)
        uses, report.inline = references(metadata, run)
        for key, use in uses:
            wanted.setdefault((datastore, key), []).append((report, use))
        report.blobs = len({key for key, _ in uses})
        reports.append(report)
    stores = {url: open_store(url) for url in {url for url, _ in wanted}}
    result = VerifyReport(reports, repaired=repair)
    for (url, key), check in _check_all(stores, list(wanted), threads, progress, result):
        _record(stores[url], key, check, wanted[(url, key)], repair)
    result.seconds = clock() - started
    return result


def _check_all(
    stores: dict[str, Any],
    blobs: list[tuple[str, str]],
    threads: int,
    progress: Progress | None,
    result: VerifyReport,
) -> Iterable[tuple[tuple[str, str], Any]]:
    """(blob, BlobCheck) for every blob, read in parallel (in key order: disk locality)."""
    from stepwell.store._integrity import BlobCheck

    def check(blob: tuple[str, str]) -> Any:
        url, key = blob
        try:
            stores[url].object_key(key)
        except StorageError:
            return BlobCheck(key, "invalid", "the metadata holds no valid blob key")
        return stores[url].check_blob(key)

    total = len(blobs)
    if progress is not None:
        progress(0, total, 0)
    with ThreadPoolExecutor(max(1, threads), "stepwell-verify") as pool:
        futures = {pool.submit(check, blob): blob for blob in sorted(blobs, key=lambda b: b[1])}
        for done, future in enumerate(as_completed(futures), 1):
            found = future.result()
            result.blobs += 1
            result.bytes_read += found.stored_bytes
            if progress is not None:
                progress(done, total, result.bytes_read)
            yield futures[future], found


def _record(
    store: Any, key: str, check: Any, uses: list[tuple[RunReport, BlobUse]], repair: bool
) -> None:
    """Add what ``check`` found to the reports of the runs using the blob (repairing first)."""
    status, reason = check.status, check.reason
    if check.ok:
        wrong = [(r, u) for r, u in uses if u.size is not None and u.size != check.size]
        for report, use in wrong:
            why = f"the metadata records {use.size} bytes, the blob holds {check.size}"
            report.damage.append(Damage(key, "size", why, [use.what]))
        return
    if status == "missing":
        notes = store.quarantine_notes(key)
        reason = notes[-1].describe() if notes else reason
    action = _repair(store, key, status, reason, [u.what for _, u in uses]) if repair else ""
    by_run: dict[int, Damage] = {}
    for report, use in uses:
        damage = by_run.get(id(report))
        if damage is None:
            damage = by_run[id(report)] = Damage(key, status, reason, [], action)
            report.damage.append(damage)
        damage.uses.append(use.what)


def _repair(store: Any, key: str, status: str, reason: str, uses: list[str]) -> str:
    """Quarantine (or note) a damaged or missing blob, then restore it from the cache if
    this machine holds a whole copy; return what was done."""
    if status == "damaged":
        note = store.quarantine(key, reason, by="verify", uses=uses)
        action = "quarantined" if note is not None else ""
    elif status == "missing":
        action = ""  # quarantined or noted before: its notes say so (the reason shown)
        if not store.quarantine_notes(key):
            store.quarantine(key, "missing", by="verify", uses=uses, note_missing=True)
            action = "noted"
    else:
        return ""  # unreadable (try again) or an invalid key: nothing to move
    try:
        restored = store.restore_from_cache(key)
    except StorageError:
        restored = False
    return "restored" if restored else action


def verify_configured(
    selection: str | None,
    *,
    repair: bool = False,
    threads: int = DEFAULT_THREADS,
    progress: Progress | None = None,
) -> VerifyReport:
    """:func:`verify_runs` on the metadata and datastores the settings name."""
    from stepwell.config import load_settings
    from stepwell.metadata import open_configured_metadata
    from stepwell.store import open_content_store

    settings = load_settings()
    metadata = open_configured_metadata(settings)
    cache_root = settings.home / "cache" if settings.cache_bytes > 0 else None
    opened: list[Any] = []

    def open_store(url: str) -> Any:
        store = open_content_store(
            url, cache_root=cache_root, endpoint_url=settings.s3_endpoint_url
        )
        opened.append(store)
        return store

    try:
        default = str(settings.datastore_url)
    except StepwellError:
        default = str(settings.home)
    try:
        runs = select_runs(metadata, selection)
        return verify_runs(
            metadata, runs, open_store, default_datastore=default, repair=repair,
            threads=threads, progress=progress,
        )  # fmt: skip
    finally:
        for store in opened:
            store.close()
        metadata.close()
