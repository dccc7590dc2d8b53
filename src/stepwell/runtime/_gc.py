"""Garbage collection: delete the runs a retention policy lets go, then free the blobs
and logs no surviving run refers to. Safe while other runs write, and at any interrupt.

The protocol (one pass, ``T0`` = the clock when the pass starts):

1. **Plan** (:func:`plan_gc`): read every run; pick the runs to delete
   (:mod:`stepwell.runtime._retention`: never a running run, a run tagged
   ``keep``, nor a flow's latest successful run).
2. **Delete metadata**, a few hundred runs per transaction
   (:meth:`MetadataStore.delete_runs`, which refuses a run that is still
   running). From here those runs are gone for every reader; their blobs are
   garbage unless another run refers to them.
3. **Mark**: read every blob key that the surviving runs' records refer to
   (artifacts written and read, code packages, cards and foreach items in task
   metadata) into a set (:meth:`MetadataStore.blob_references`). A resumed
   run's cloned tasks record the origin's keys, so what a surviving resumed
   run uses survives its origin.
4. **Sweep candidates**: list ``objects/`` of every datastore a run recorded
   (and the configured one); an unmarked blob is a candidate only if it was
   last written before ``T0 - grace``. A run in progress writes its blobs
   *before* it records them, so every blob written during the pass, or within
   ``grace`` before it, is kept whatever the marks say.
5. **Mark again** and drop every candidate now referenced: a run that
   recorded a reference while the pass listed (a resume cloning old blobs, a
   task whose content was already stored) keeps it.
6. **Delete** the remaining candidates, then the logs (``logs/<flow>/<run>/``
   in STEPWELL_HOME and in a remote datastore) and live cards
   (``cards/live/<flow>/<run>/``) of runs that no longer exist.

Metadata goes first and blobs last, so an interrupt at any point leaves only
unreferenced blobs and logs behind, never a surviving run without its data;
the next pass (any policy, or ``--blobs-only``) frees them. A remaining
window: a running task whose value hashes to a garbage blob skips writing it
(it is already stored) and records it after step 5 but before step 6 deletes
it. It needs the same content to be produced at that moment, and closing it
needs the writer to refresh a blob it finds already stored.

Limits: a datastore shared by two metadata stores (two STEPWELL_HOMEs on one
bucket) must not be collected from either: each would free the other's blobs.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from stepwell._crashpoints import crash_point
from stepwell.exceptions import BlobNotFoundError
from stepwell.metadata import MetadataStore
from stepwell.runtime._retention import FlowPlan, Retention, deleted_ids, plan_flow
from stepwell.store import BlobInfo, LocalStorage, Storage
from stepwell.store._integrity import STAMP_PREFIX

#: A content-addressed blob's storage key: ``objects/<2 hex>/<62 hex>``.
_OBJECT_KEY = re.compile(r"objects/([0-9a-f]{2})/([0-9a-f]{62})")
#: Per-run folders of logs and live cards: the run id is the segment after the flow name.
_RUN_FOLDERS = {"logs/": 2, "cards/live/": 3}
#: Runs deleted per metadata transaction: short, so concurrent writers barely wait.
DELETE_BATCH = 200
#: How often (items) the progress callback hears about a long phase.
PROGRESS_EVERY = 50_000
#: Threads for stat and delete requests to a remote datastore.
REMOTE_THREADS = 16
#: Threads unlinking a local datastore's files: a file system overlaps them (on this
#: project's ext4 machine, 8 threads unlink 2.5-3x faster than one).
LOCAL_THREADS = 8
#: Keys handed to the threads at a time (progress is reported between chunks).
DELETE_CHUNK = 16_384

Progress = Callable[[str, int], None]


@dataclass
class GcPlan:
    """What one pass will do: per flow, the runs to delete; and every datastore to sweep."""

    flows: list[FlowPlan]
    datastores: list[str]
    blobs_only: bool = False


@dataclass
class Freed:
    """Items (blobs or log files) freed, or that a dry run would free, and their bytes."""

    count: int = 0
    bytes: int = 0

    def add(self, size: int) -> None:
        self.count += 1
        self.bytes += size


@dataclass
class GcReport:
    """What a pass did (or, with ``dry_run``, would do)."""

    dry_run: bool
    flows: list[FlowPlan]
    runs_deleted: dict[str, list[str]] = field(default_factory=dict)
    blobs: Freed = field(default_factory=Freed)
    logs: Freed = field(default_factory=Freed)
    blobs_referenced: int = 0
    blobs_recent: int = 0  # unreferenced but written less than `grace` before the pass
    datastores: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase


def plan_gc(
    metadata: MetadataStore,
    retention: Retention | None,
    *,
    default_datastore: str,
    flow: str | None = None,
    now: float,
) -> GcPlan:
    """Read every run and choose those to delete (``retention=None``: none, blobs only)."""
    flows: list[FlowPlan] = []
    datastores: dict[str, None] = {default_datastore: None}
    if flow is not None:
        metadata.list_runs(flow, limit=1)  # an unknown flow: NotFoundError naming the closest
    for name in metadata.list_flows():
        runs = metadata.list_runs(name)
        datastores.update((r.datastore or default_datastore, None) for r in runs)
        if retention is not None and flow in (None, name):
            flows.append(plan_flow(name, runs, retention, now=now))
    return GcPlan(flows, list(datastores), blobs_only=retention is None)


class GarbageCollector:
    """Runs one pass of a :class:`GcPlan` (see the module docstring for the protocol).

    Args:
        metadata: the metadata store.
        home: STEPWELL_HOME (its ``logs/`` and ``cards/live/`` hold this machine's copies).
        open_storage: opens a datastore URL as a :class:`Storage`.
        grace: seconds; blobs and logs written less than this before the pass are kept.
        clock: the time (UTC epoch seconds).
        progress: called as ``progress(phase, items_done)`` during long phases.
    """

    def __init__(
        self,
        metadata: MetadataStore,
        *,
        home: Path,
        open_storage: Callable[[str], Storage],
        grace: float = 3600.0,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
    ) -> None:
        self.metadata = metadata
        self.home = Path(home)
        self.open_storage = open_storage
        self.grace = grace
        self.clock = clock
        self.progress = progress or (lambda phase, done: None)

    def run(self, plan: GcPlan, *, dry_run: bool = False) -> GcReport:
        started = self.clock()
        cutoff = started - self.grace
        report = GcReport(dry_run, plan.flows, datastores=plan.datastores)
        with _timed(report, "delete runs"):
            gone = deleted_ids(plan.flows) if dry_run else self._delete_runs(plan, report)
        crash_point("gc.after-runs")
        if dry_run:
            report.runs_deleted = {p.flow_name: [r.run_id for r in p.delete] for p in plan.flows}
        stores = {url: self.open_storage(url) for url in plan.datastores}
        with _timed(report, "mark, list, mark again"):
            candidates = self._candidates(stores, gone, cutoff, report)
        with _timed(report, "delete blobs"):
            self._sweep_blobs(stores, candidates, dry_run, report)
        with _timed(report, "logs"):
            alive = self._run_ids() - gone  # listed now: runs begun since the plan count
            self._sweep_logs(stores, alive, gone, cutoff, dry_run, report)
        report.seconds = self.clock() - started
        return report

    # -- steps 2-6 ----------------------------------------------------------------------

    def _delete_runs(self, plan: GcPlan, report: GcReport) -> set[str]:
        gone: set[str] = set()
        for flow_plan in plan.flows:
            ids = [run.run_id for run in flow_plan.delete]
            done: list[str] = []
            for start in range(0, len(ids), DELETE_BATCH):
                done += self.metadata.delete_runs(
                    flow_plan.flow_name, ids[start : start + DELETE_BATCH]
                )
                self.progress("deleting runs", len(gone) + len(done))
            report.runs_deleted[flow_plan.flow_name] = done
            gone.update(done)
        return gone

    def _run_ids(self) -> set[str]:
        return {r.run_id for f in self.metadata.list_flows() for r in self.metadata.list_runs(f)}

    def _references(self, exclude: set[str]) -> Iterator[str]:
        for n, key in enumerate(self.metadata.blob_references(exclude=exclude), 1):
            if n % PROGRESS_EVERY == 0:
                self.progress("marking", n)
            yield key

    def _candidates(
        self, stores: dict[str, Storage], gone: set[str], cutoff: float, report: GcReport
    ) -> dict[str, dict[str, int]]:
        """Per datastore: digest -> size of each unreferenced blob written before ``cutoff``."""
        marked = set(self._references(gone))
        unmarked: dict[str, list[str]] = {}
        listed = 0
        for url, storage in stores.items():
            unmarked[url] = []
            for key in storage.list("objects/"):
                listed += 1
                if listed % PROGRESS_EVERY == 0:
                    self.progress("listing blobs", listed)
                match = _OBJECT_KEY.fullmatch(key)
                if match is None:
                    continue  # not a content-addressed blob: not ours to judge
                if match[1] + match[2] in marked:
                    report.blobs_referenced += 1
                else:
                    unmarked[url].append(key)
        del marked
        found: dict[str, dict[str, int]] = {}
        for url, keys in unmarked.items():
            found[url] = {}
            for key, info in self._infos(stores[url], keys):
                if info is None:
                    continue  # deleted meanwhile
                if info.modified >= cutoff:
                    report.blobs_recent += 1
                else:
                    found[url][key[8:10] + key[11:]] = info.size
        for key in self._references(gone):  # step 5: references recorded meanwhile
            for blobs in found.values():
                blobs.pop(key, None)
        return found

    def _sweep_blobs(
        self,
        stores: dict[str, Storage],
        candidates: dict[str, dict[str, int]],
        dry_run: bool,
        report: GcReport,
    ) -> None:
        for url, blobs in candidates.items():
            for size in blobs.values():
                report.blobs.add(size)
            if not dry_run:
                keys = [f"objects/{d[:2]}/{d[2:]}" for d in blobs]
                self._delete(stores[url], keys, "deleting blobs")
                # their "verified" stamps (large blobs only: one listing finds them)
                stamps = [
                    key
                    for key in stores[url].list(STAMP_PREFIX)
                    if key.removeprefix(STAMP_PREFIX).replace("/", "") in blobs
                ]
                self._delete(stores[url], stamps, "deleting stamps")

    def _sweep_logs(
        self,
        stores: dict[str, Storage],
        alive: set[str],
        gone: set[str],
        cutoff: float,
        dry_run: bool,
        report: GcReport,
    ) -> None:
        """Logs and live cards of deleted runs, and of runs that no longer exist (an
        earlier pass interrupted) when written before ``cutoff``."""
        places: dict[str, Storage] = {str(self.home): LocalStorage(self.home)}
        places.update((s.root_url, s) for s in stores.values() if s.is_remote)
        for storage in places.values():
            found = []  # (key, run folder, whether its run was deleted by this pass)
            for prefix, depth in _RUN_FOLDERS.items():
                for key in storage.list(prefix):
                    parts = key.split("/")
                    if len(parts) > depth + 1 and parts[depth] not in alive:
                        folder = "/".join(parts[: depth + 1])
                        found.append((key, folder, parts[depth] in gone))
            doomed, folders = [], set()
            infos = self._infos(storage, [key for key, _, _ in found])
            for (key, folder, is_gone), (_, info) in zip(found, infos, strict=True):
                if info is not None and (is_gone or info.modified < cutoff):
                    report.logs.add(info.size)
                    doomed.append(key)
                    folders.add(folder)
            if not dry_run:
                self._delete(storage, doomed, "deleting logs")
                _prune_empty_dirs(storage, folders)

    # -- storage requests: in parallel on a remote datastore, direct on a local one -----

    def _infos(self, storage: Storage, keys: list[str]) -> Iterator[tuple[str, BlobInfo | None]]:
        root = _local_root(storage)

        def info(key: str) -> tuple[str, BlobInfo | None]:
            try:
                if root is not None:  # a key the storage listed: a file under its root
                    stat = os.stat(f"{root}/{key}")
                    return key, BlobInfo(key, stat.st_size, stat.st_mtime)
                return key, storage.info(key)
            except (BlobNotFoundError, FileNotFoundError, NotADirectoryError):
                return key, None

        if storage.is_remote and len(keys) > 1:
            with ThreadPoolExecutor(REMOTE_THREADS) as pool:
                yield from pool.map(info, keys)
        else:
            yield from map(info, keys)

    def _delete(self, storage: Storage, keys: list[str], phase: str) -> None:
        root = _local_root(storage)

        point = f"gc.{phase.replace(' ', '-')}"

        def delete(part: list[str]) -> None:
            for key in part:
                if root is None:
                    storage.delete(key)
                else:
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        os.unlink(f"{root}/{key}")
                crash_point(point)

        threads = REMOTE_THREADS if root is None else LOCAL_THREADS
        if len(keys) < 2 * threads:
            delete(keys)
            return
        done = 0
        with ThreadPoolExecutor(threads) as pool:
            for start in range(0, len(keys), DELETE_CHUNK):
                chunk = keys[start : start + DELETE_CHUNK]
                list(pool.map(delete, [chunk[i::threads] for i in range(threads)]))
                if (done + len(chunk)) // PROGRESS_EVERY > done // PROGRESS_EVERY:
                    self.progress(phase, done + len(chunk))
                done += len(chunk)


@contextlib.contextmanager
def _timed(report: GcReport, phase: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        report.phases[phase] = time.perf_counter() - began


def _local_root(storage: Storage) -> str | None:
    """A :class:`LocalStorage`'s directory: its listed keys are stat'ed and unlinked there
    directly, without building a ``Path`` per key (a third of a pass over a million)."""
    return str(storage.root) if type(storage) is LocalStorage else None


def _prune_empty_dirs(storage: Storage, folders: Iterable[str]) -> None:
    """On a local storage, remove the run folders emptied by the sweep, deepest first.

    Only folders of runs that no longer exist: a running task may be creating the
    folder of its own log at any moment.
    """
    for folder in folders:
        root = storage.local_path(folder)
        if root is None or not root.is_dir():
            continue
        for path, _, _ in sorted(os.walk(root), key=lambda walked: -len(walked[0])):
            with contextlib.suppress(OSError):  # not empty
                os.rmdir(path)
