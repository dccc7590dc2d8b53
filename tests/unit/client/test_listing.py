"""Listing runs page by page, on a store filled directly (many runs, no subprocess)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepwell.client import Flow, Run, _flow, default_namespace, namespace, reset_client
from stepwell.metadata import SqliteMetadataStore, TaskOutcome
from stepwell.runtime._refs import record_of
from stepwell.store import ContentStore, LocalStorage, save_artifacts

# Start times between two microseconds: a run's created_at (a datetime) is rounded.
_clock = itertools.count(1_700_000_000.0000006, 10.0)


@pytest.fixture
def store(stepwell_home: Path) -> Iterator[SqliteMetadataStore]:
    reset_client()
    meta = SqliteMetadataStore(stepwell_home / "stepwell.db", clock=lambda: next(_clock))
    yield meta
    meta.close()
    reset_client()


def add_run(meta: SqliteMetadataStore, user: str = "tester", value: object = None) -> str:
    run_id = meta.new_run("X", user=user, tags=[], system_tags=[f"user:{user}"],
                          parameters={}, pid=os.getpid(), host="h")  # fmt: skip
    if value is not None:
        with ContentStore(LocalStorage(meta.path.parent)) as blobs:
            refs = save_artifacts(blobs, {"value": value})
        artifacts = [record_of(name, ref) for name, ref in refs.items()]
        meta.record_task(TaskOutcome("X", run_id, "end", "1", 0, "succeeded", artifacts=artifacts))
    meta.finish_run("X", run_id, "succeeded")
    return run_id


def test_runs_come_page_by_page_newest_first(
    store: SqliteMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_flow, "PAGE_SIZE", 4)
    ids = [add_run(store, "tester" if i % 3 else "other") for i in range(25)]
    mine = [i for n, i in enumerate(ids) if n % 3]
    assert [r.id for r in Flow("X")] == mine[::-1]
    assert [r.id for r in Flow("X").runs(limit=6)] == mine[::-1][:6]
    namespace(None)
    assert [r.id for r in Flow("X")] == ids[::-1]
    default_namespace()


def test_runs_started_while_listing_are_not_repeated(
    store: SqliteMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_flow, "PAGE_SIZE", 3)
    ids = [add_run(store) for _ in range(10)]
    listed = []
    for run in Flow("X"):
        listed.append(run.id)
        if len(listed) == 2:  # new runs shift every later page by two
            add_run(store)
            add_run(store)
    assert listed == ids[::-1]


@pytest.mark.parametrize("count", [1, 2, 3, 17])
def test_flow_created_at_is_the_oldest_run(store: SqliteMetadataStore, count: int) -> None:
    ids = [add_run(store) for _ in range(count)]
    assert Flow("X").created_at == Run(f"X/{ids[0]}").created_at


def test_latest_run_data_among_many(store: SqliteMetadataStore) -> None:
    for _ in range(300):
        add_run(store)
    add_run(store, value={"answer": 42})
    assert Flow("X").latest_run.data.value == {"answer": 42}
    add_run(store, user="other", value="not mine")
    assert Flow("X").latest_run.data.value == {"answer": 42}


def test_since_and_until_take_a_runs_created_at(store: SqliteMetadataStore) -> None:
    ids = [add_run(store) for _ in range(3)]
    middle = Run(f"X/{ids[1]}").created_at
    assert [r.id for r in Flow("X").runs(since=middle)] == [ids[2], ids[1]]
    assert [r.id for r in Flow("X").runs(until=middle)] == [ids[0]]
