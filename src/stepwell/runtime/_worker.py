"""The worker side of every local executor: run a task, send its result down a pipe.

``run_in_child`` is what a forked task process runs; ``subprocess_main`` is
the entry of a fresh interpreter (``--executor subprocess``), which reads its
spec from stdin and finds the result pipe in ``STEPWELL_RESULT_FD``.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import sys
import time
from typing import Any, NoReturn

from stepwell.runtime._context import WorkerContext
from stepwell.runtime._spec import TaskResult, TaskSpec
from stepwell.runtime._task import format_user_traceback, run_task

RESULT_FD_ENV = "STEPWELL_RESULT_FD"


def preload_task_modules(metadata: str = "local", datastore: str = "") -> None:
    """Import what every task needs, so forks of this process start with it loaded.

    Imports only: no thread is started and no connection opened before the fork.
    """
    import zstandard  # noqa: F401  - compression, for blobs bound for a remote datastore

    from stepwell.metadata import ArtifactRecord, SqliteMetadataStore, is_local  # noqa: F401

    if not is_local(metadata):  # a join task reads its inputs' records from PostgreSQL
        from stepwell.metadata import PostgresMetadataStore  # noqa: F401
    from stepwell.store import ArtifactRef, ContentStore, open_storage, save_artifacts  # noqa: F401
    from stepwell.store._storage import preload_storage

    preload_storage(datastore)  # the S3 backend: imported once, not in every task


def _line_buffered_streams() -> None:
    """stdout/stderr flush every line, so logs are live."""
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True
    )


def _report(result_fd: int, result: TaskResult) -> None:
    try:
        payload = pickle.dumps(result, protocol=5)
    except Exception as exc:  # e.g. a user exception type that cannot be pickled
        result.traceback = (result.traceback or "") + f"\n(result not picklable: {exc})"
        payload = pickle.dumps(result, protocol=5)
    view = memoryview(payload)
    while view:
        written = os.write(result_fd, view)
        view = view[written:]
    os.close(result_fd)


def _execute(spec: TaskSpec, ctx: WorkerContext, result_fd: int) -> int:
    started = time.time()
    try:
        result = run_task(spec, ctx)
    except BaseException as exc:  # stepwell itself failed: still report, never hang
        result = TaskResult(
            task_id=spec.task_id,
            attempt=spec.attempt,
            ok=False,
            exception_type=type(exc).__name__,
            exception=f"Internal error while running the task: {exc}",
            traceback=format_user_traceback(exc),
            started_at=started,
            finished_at=time.time(),
        )
    _report(result_fd, result)
    return 0 if result.ok else 1


def run_in_child(
    spec: TaskSpec, ctx: WorkerContext, out_w: int, err_w: int, res_w: int
) -> NoReturn:
    """Body of a forked task process."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own group: terminate() reaches whatever the step starts
        for sig in (signal.SIGINT, signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        for fd in (devnull, out_w, err_w):
            os.close(fd)
        _line_buffered_streams()
        code = _execute(spec, ctx, res_w)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def subprocess_main(flow_cls: Any) -> NoReturn:
    """Entry of ``python flow.py _task`` (the subprocess executor)."""
    spec, info, decorators = pickle.load(sys.stdin.buffer)
    from stepwell.graph import build_graph

    graph = build_graph(flow_cls)
    graph[spec.step_name].decorators = decorators  # as the run resolved them
    ctx = WorkerContext(info=info, flow_cls=flow_cls, graph=graph)
    _line_buffered_streams()
    code = _execute(spec, ctx, int(os.environ[RESULT_FD_ENV]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
