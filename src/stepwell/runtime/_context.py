"""What every task of a run shares: the flow, its graph, the stores, who runs it.

Built once in the scheduler process before the zygote forks, so each forked
task inherits it for free; the subprocess worker rebuilds it from the flow
file and the pickled :class:`RunInfo`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepwell.flow import FlowSpec


@dataclass(frozen=True)
class RunInfo:
    """Plain, picklable facts about the run."""

    flow_name: str
    run_id: str
    home: str
    username: str
    namespace: str | None
    tags: frozenset[str] = frozenset()
    origin_run_id: str | None = None
    parameter_names: tuple[str, ...] = ()
    max_num_splits: int = 100_000
    flow_file: str = ""
    project: dict[str, Any] | None = None  # @project: what current says about it
    trigger: dict[str, Any] | None = None  # a scheduler's run: what fired it (current.trigger)
    datastore: str = ""  # where blobs go: a local directory or s3://bucket/prefix ("": home)
    s3_endpoint_url: str | None = None  # an S3-compatible server, when not AWS itself
    cache_bytes: int = 0  # this machine's cache of a remote datastore's blobs (0: none)
    metadata: str = "local"  # where runs are recorded: "local" (SQLite in home) or postgresql://
    code_key: str | None = None  # the run's code package in the datastore (remote workers run it)

    @property
    def cache_root(self) -> str | None:
        return str(Path(self.home) / "cache") if self.cache_bytes else None

    @property
    def datastore_url(self) -> str:
        return self.datastore or self.home


@dataclass
class WorkerContext:
    """RunInfo plus the live objects a task needs; stores open lazily per process."""

    info: RunInfo
    flow_cls: type[FlowSpec]
    graph: Any
    _store: Any = field(default=None, repr=False)
    _metadata: Any = field(default=None, repr=False)
    _pid: int = field(default=0, repr=False)

    def _check_pid(self) -> None:
        if self._pid != os.getpid():  # a fork: never reuse the parent's threads/connections
            self._store = None
            self._metadata = None
            self._pid = os.getpid()

    @property
    def store(self) -> Any:
        self._check_pid()
        if self._store is None:
            from stepwell.store import open_content_store

            self._store = open_content_store(
                self.info.datastore_url,
                cache_root=self.info.cache_root,
                endpoint_url=self.info.s3_endpoint_url,
            )
        return self._store

    @property
    def metadata(self) -> Any:
        self._check_pid()
        if self._metadata is None:
            from stepwell.metadata import open_metadata

            self._metadata = open_metadata(self.info.metadata, home=self.info.home)
        return self._metadata
