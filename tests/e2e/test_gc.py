"""stepwell gc: retention, protected runs, dry runs, shared and resumed blobs, writers during a
pass, interrupted passes; on SQLite and PostgreSQL metadata, on a local and an S3 datastore."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stepwell.cli._main import main
from stepwell.config import load_settings
from stepwell.exceptions import NotFoundError
from stepwell.metadata import ArtifactRecord, TaskOutcome, open_configured_metadata
from stepwell.runtime._gc import GarbageCollector, GcReport, plan_gc
from stepwell.runtime._retention import Retention
from stepwell.store import ContentStore, Storage, open_storage
from stepwell.testing import run_flow

GC_FLOW = Path(__file__).parents[1] / "flows" / "gc" / "gc_flow.py"
FLOW = "GcFlow"
SHARED = b"s" * 5000  # the artifact every run of GcFlow stores: one blob


def runs_of(home: Path, *seeds: int, env: dict[str, str] | None = None) -> list[str]:
    ids = []
    for seed in seeds:
        run = run_flow(GC_FLOW, "--seed", str(seed), home=home, env=env)
        assert run.ok, run.stderr
        ids.append(str(run.run_id))
    return ids


def collect(
    retention: Retention | None,
    *,
    dry_run: bool = False,
    now: float | None = None,
    wrap: Callable[[Storage], Storage] = lambda s: s,
) -> GcReport:
    """One pass with grace 0, as ``stepwell gc`` makes it (``now`` ages the runs)."""
    settings = load_settings()
    metadata = open_configured_metadata(settings)
    plan = plan_gc(
        metadata, retention, default_datastore=settings.datastore_url, now=now or time.time()
    )
    collector = GarbageCollector(
        metadata,
        home=settings.home,
        grace=0,
        open_storage=lambda url: wrap(open_storage(url, endpoint_url=settings.s3_endpoint_url)),
    )
    try:
        return collector.run(plan, dry_run=dry_run)
    finally:
        metadata.close()


def gc_cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["gc", "--grace", "0", *args], env=env)


def blob_keys(storage: Storage) -> set[str]:
    return {k for k in storage.list("objects/")}


def reads_fine(run_id: str, seed: int, *, cloned: bool = False) -> None:
    """Every artifact, card and log of the run reads back (a fresh client: nothing cached).

    A task cloned by resume has neither logs nor cards of its own (``cloned``)."""
    from stepwell import Run, namespace
    from stepwell.cards import get_cards
    from stepwell.client import reset_client

    reset_client()
    namespace(None)
    run = Run(f"{FLOW}/{run_id}")
    start = run["start"].task
    assert start.data.shared == SHARED
    assert start.data.own == str(seed).encode() * 3000
    assert run["join"].task.data.total == sum(len(f"{seed}-{i}-" * 800) for i in range(3))
    if not cloned:
        assert "hello from start" in start.stdout
        assert "<html" in get_cards(start)[0].get().lower()
    for task in run["work"]:
        assert task.data.piece


def gone(run_id: str) -> bool:
    from stepwell import Run, namespace
    from stepwell.client import reset_client

    reset_client()
    namespace(None)
    try:
        Run(f"{FLOW}/{run_id}")
    except NotFoundError:
        return True
    return False


class Wrapped(Storage):
    """A storage that lets a test act in the middle of a pass (list and delete hooks)."""

    def __init__(self, inner: Storage, on_list: Callable[[], None] = lambda: None,
                 on_delete: Callable[[str], None] = lambda key: None) -> None:  # fmt: skip
        self.inner, self.on_list, self.on_delete = inner, on_list, on_delete

    def save_bytes(self, key: str, data: Any, *, overwrite: bool = False) -> None:
        self.inner.save_bytes(key, data, overwrite=overwrite)

    def load_bytes(self, key: str) -> Any:
        return self.inner.load_bytes(key)

    def local_path(self, key: str) -> Any:
        return self.inner.local_path(key)

    @property
    def root_url(self) -> str:
        return self.inner.root_url

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        if prefix == "objects/":
            self.on_list()
        return self.inner.list(prefix)

    def info(self, key: str) -> Any:
        return self.inner.info(key)

    def delete(self, key: str) -> None:
        self.on_delete(key)
        self.inner.delete(key)


# -- the command and its policies --------------------------------------------------------


def test_keep_last_deletes_old_runs_and_frees_only_what_they_alone_used(stepwell_home):
    first, second, third = runs_of(stepwell_home, 1, 2, 3)
    home = open_storage(str(stepwell_home))
    before = blob_keys(home)
    metadata = open_configured_metadata(load_settings())
    shared, own = (
        {ContentStore.object_key(metadata.list_artifacts(FLOW, r, "start", "1")[name].key)
         for r in (first, third)}
        for name in ("shared", "own")
    )  # fmt: skip
    assert len(shared) == 1 and len(own) == 2  # one blob shared by every run
    result = gc_cli("--keep-last", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert f"{FLOW}: delete 2 run(s), keep 1" in result.output
    assert gone(first) and gone(second) and not gone(third)
    after = blob_keys(home)
    assert after < before
    assert shared <= after  # also used by the surviving run
    assert len(own & after) == 1  # the deleted run's own blob is gone
    reads_fine(third, 3)
    logs = stepwell_home / "logs" / FLOW
    assert sorted(p.name for p in logs.iterdir()) == [third]
    again = gc_cli("--keep-last", "1", "--yes")
    assert "Freed 0 blob(s)" in again.output  # nothing left to free


def test_without_a_policy_gc_deletes_nothing_and_says_how_to_choose(stepwell_home):
    (run_id,) = runs_of(stepwell_home, 1)
    result = gc_cli("--yes")
    assert result.exit_code == 2
    assert "--keep-last N" in result.output and "--older-than DAYS" in result.output
    assert "STEPWELL_GC_KEEP_LAST" in result.output
    assert not gone(run_id)


def test_the_settings_give_the_policy_and_the_options_override_them(stepwell_home):
    first, second = runs_of(stepwell_home, 1, 2)
    result = gc_cli("--yes", env={"STEPWELL_GC_KEEP_LAST": "2"})
    assert result.exit_code == 0, result.output
    assert "keep each flow's 2 newest run(s)" in result.output and not gone(first)
    result = gc_cli("--yes", "--keep-last", "1", env={"STEPWELL_GC_KEEP_LAST": "2"})
    assert gone(first) and not gone(second)


def test_deleting_runs_needs_yes_when_there_is_no_terminal_to_ask(stepwell_home):
    first, _ = runs_of(stepwell_home, 1, 2)
    result = gc_cli("--keep-last", "1")
    assert result.exit_code == 2 and "--yes" in result.output
    assert not gone(first)


def test_older_than_deletes_only_runs_started_before_the_cutoff(stepwell_home):
    first, second = runs_of(stepwell_home, 1, 2)
    later = time.time() + 2 * 86_400
    report = collect(Retention(older_than_days=3), now=later)
    assert report.runs_deleted == {FLOW: []}
    report = collect(Retention(older_than_days=1), now=later)
    # both are older, but the latest successful run of a flow is never deleted
    assert report.runs_deleted == {FLOW: [first]}
    assert report.flows[0].protected == {"latest successful": 1}
    reads_fine(second, 2)


def test_keep_tag_running_and_latest_successful_runs_are_protected(stepwell_home):
    tagged, ok = runs_of(stepwell_home, 1, 2)
    failed = run_flow(GC_FLOW, "--seed", "3", home=stepwell_home, env={"GC_FAIL": "1"})
    assert not failed.ok
    (newest,) = runs_of(stepwell_home, 4)
    metadata = open_configured_metadata(load_settings())
    metadata.add_tags(FLOW, tagged, ["keep"])
    running = metadata.new_run(
        FLOW, user="tester", tags=[], system_tags=[], parameters={}, pid=os.getpid(),
        host=os.uname().nodename,
    )  # fmt: skip
    # all five are older than a day by then; only ok and failed are not protected
    report = collect(Retention(older_than_days=1), now=time.time() + 2 * 86_400)
    assert report.runs_deleted == {FLOW: [ok, str(failed.run_id)]}
    assert report.flows[0].protected == {
        "running": 1, "tagged 'keep'": 1, "latest successful": 1,
    }  # fmt: skip
    assert metadata.get_run(FLOW, running).status == "running"
    reads_fine(tagged, 1)
    reads_fine(newest, 4)


def test_a_dry_run_deletes_nothing_and_reports_what_a_real_pass_frees(stepwell_home):
    first, _ = runs_of(stepwell_home, 1, 2)
    home = open_storage(str(stepwell_home))
    before = blob_keys(home)
    logs_before = sorted(home.list("logs/"))
    dry = collect(Retention(keep_last=1), dry_run=True)
    assert blob_keys(home) == before and sorted(home.list("logs/")) == logs_before
    assert not gone(first)
    real = collect(Retention(keep_last=1))
    assert (dry.blobs, dry.logs, dry.runs_deleted) == (real.blobs, real.logs, real.runs_deleted)
    assert dry.blobs.count == len(before) - len(blob_keys(home)) > 0
    assert real.logs.count > 0


def test_cli_dry_run_and_json(stepwell_home):
    import json

    first, _ = runs_of(stepwell_home, 1, 2)
    result = gc_cli("--keep-last", "1", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] and report["flows"][0]["runs_deleted"] == [first]
    assert report["blobs"]["count"] > 0 and not gone(first)


# -- what survives -------------------------------------------------------------------------


def test_a_resumed_run_keeps_the_blobs_it_cloned_from_its_deleted_origin(stepwell_home):
    origin = run_flow(GC_FLOW, "--seed", "7", home=stepwell_home, env={"GC_FAIL": "1"})
    assert not origin.ok
    resumed = run_flow(GC_FLOW, home=stepwell_home, command=("resume",))
    assert resumed.ok, resumed.stderr
    runs_of(stepwell_home, 8)
    report = collect(Retention(keep_last=2))
    assert report.runs_deleted == {FLOW: [str(origin.run_id)]}
    assert gone(str(origin.run_id))
    reads_fine(str(resumed.run_id), 7, cloned=True)  # start and work: the origin's blobs


def test_blobs_written_or_referenced_during_a_pass_survive(stepwell_home):
    first, _ = runs_of(stepwell_home, 1, 2)
    metadata = open_configured_metadata(load_settings())
    own = metadata.list_artifacts(FLOW, first, "start", "1")["own"]
    fresh = ContentStore(open_storage(str(stepwell_home)))

    def meanwhile() -> None:
        time.sleep(0.01)
        # a run in progress: a new blob, not recorded yet ...
        written.extend(ref.key for ref in fresh.save_blobs([b"written during the pass" * 100]))
        # ... and a run that records a blob of a deleted run (its content was stored)
        run_id = metadata.new_run(
            FLOW, user="tester", tags=[], system_tags=[], parameters={}, pid=os.getpid(),
            host=os.uname().nodename,
        )  # fmt: skip
        record = ArtifactRecord("own", own.key, own.serializer, own.type_name, own.size, own.meta)
        metadata.record_task(TaskOutcome(FLOW, run_id, "start", "1", 0, "succeeded",
                                         artifacts=[record]))  # fmt: skip
        metadata.finish_run(FLOW, run_id, "succeeded")
        writer.append(run_id)

    writer: list[str] = []
    written: list[str] = []
    hooks = iter([meanwhile])
    collect(
        Retention(keep_last=1),
        wrap=lambda s: Wrapped(s, on_list=lambda: next(hooks, lambda: None)()),
    )
    assert gone(first) and writer
    assert written and fresh.exists(written[0])
    assert fresh.exists(own.key)
    from stepwell import Run

    assert Run(f"{FLOW}/{writer[0]}")["start"].task.data.own == b"1" * 3000


@pytest.mark.parametrize("deletes_before_interrupt", [0, 3])
def test_an_interrupted_pass_loses_nothing_and_the_next_one_finishes(
    stepwell_home, deletes_before_interrupt
):
    first, second, third = runs_of(stepwell_home, 1, 2, 3)
    home = open_storage(str(stepwell_home))
    count = [0]

    def interrupt(key: str) -> None:
        if key.startswith("objects/"):
            if count[0] == deletes_before_interrupt:
                raise KeyboardInterrupt
            count[0] += 1

    with pytest.raises(KeyboardInterrupt):
        collect(Retention(keep_last=1), wrap=lambda s: Wrapped(s, on_delete=interrupt))
    assert gone(first) and gone(second)  # metadata went first ...
    reads_fine(third, 3)  # ... and what survives is whole
    left = blob_keys(home)
    report = collect(None)  # --blobs-only: the next pass frees what the first left
    assert report.blobs.count > 0 and report.runs_deleted == {}
    assert report.logs.count > 0 or deletes_before_interrupt
    reads_fine(third, 3)
    assert blob_keys(home) < left
    assert collect(None).blobs.count == 0


# -- other backends ------------------------------------------------------------------------


def test_gc_with_postgres_metadata(stepwell_home, pg_url, monkeypatch):
    monkeypatch.setenv("STEPWELL_METADATA", pg_url)
    env = {"STEPWELL_METADATA": pg_url}
    first, second = runs_of(stepwell_home, 1, 2, env=env)
    before = blob_keys(open_storage(str(stepwell_home)))
    result = gc_cli("--keep-last", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert gone(first) and not gone(second)
    assert blob_keys(open_storage(str(stepwell_home))) < before
    reads_fine(second, 2)


def test_gc_on_an_s3_datastore(stepwell_home, s3_env):
    first, second = runs_of(stepwell_home, 1, 2)
    bucket = open_storage(s3_env["STEPWELL_DATASTORE_ROOT"],
                          endpoint_url=s3_env["STEPWELL_S3_ENDPOINT_URL"])  # fmt: skip
    before = blob_keys(bucket)
    assert any(k.startswith(f"logs/{FLOW}/{first}/") for k in bucket.list("logs/"))
    report = collect(Retention(keep_last=1))
    assert report.runs_deleted == {FLOW: [first]}
    after = blob_keys(bucket)
    assert after < before and report.blobs.count == len(before - after)
    assert not any(k.startswith(f"logs/{FLOW}/{first}/") for k in bucket.list("logs/"))
    assert any(k.startswith(f"logs/{FLOW}/{second}/") for k in bucket.list("logs/"))
    reads_fine(second, 2)


def test_flow_limits_the_runs_deleted_and_an_unknown_flow_is_named(stepwell_home):
    first, _ = runs_of(stepwell_home, 1, 2)
    result = gc_cli("--keep-last", "1", "--flow", "GcFlw", "--yes")
    assert result.exit_code == 1 and "GcFlow" in result.output  # did you mean
    assert not gone(first)
    result = gc_cli("--keep-last", "1", "--flow", FLOW, "--yes")
    assert result.exit_code == 0, result.output
    assert gone(first)


def test_the_verified_stamps_of_freed_blobs_go_with_them(stepwell_home):
    first, second = runs_of(stepwell_home, 1, 2, env={"GC_BIG": "1"})
    home = open_storage(str(stepwell_home))
    stamps = set(home.list("verified/"))
    assert len(stamps) == 2  # one per run's large blob
    result = gc_cli("--keep-last", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert gone(first) and not gone(second)
    left = set(home.list("verified/"))
    assert len(left) == 1 and left < stamps
    (stamp,) = left
    assert home.exists("objects/" + stamp.removeprefix("verified/"))  # its blob survived
    reads_fine(second, 2)
