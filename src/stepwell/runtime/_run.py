"""One local run: start the executor, drive the scheduler, record every task, report.

The event loop is a single thread around one ``selectors`` selector: task
pipes (logs and results), the executor's own channel, and nothing else. It
sleeps only in ``select`` — until a task writes, ends, or a retry or
heartbeat is due — so no time is lost to polling.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import platform
import selectors
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stepwell._crashpoints import crash_point
from stepwell.flow import FlowSpec
from stepwell.runtime._cache import StepCache
from stepwell.runtime._context import RunInfo, WorkerContext
from stepwell.runtime._executor import Executor, ExecutorContext, TaskHandle
from stepwell.runtime._logs import LogUploader, TaskLog
from stepwell.runtime._params import StoredValue, parameters_as_json
from stepwell.runtime._policies import Admission, Capacity, failure_policies, time_limits
from stepwell.runtime._refs import record_of
from stepwell.runtime._report import Reporter
from stepwell.runtime._resume import Resume
from stepwell.runtime._scheduler import RetryPolicy, Scheduler
from stepwell.runtime._spec import TaskResult, TaskSpec
from stepwell.store._logs import STREAMS

HEARTBEAT_SECONDS = 5.0


@dataclass
class RunOptions:
    """How to run: everything the ``run`` command line can set."""

    parameters: dict[str, Any] = field(default_factory=dict)  # attribute -> resolved value
    tags: tuple[str, ...] = ()
    max_workers: int | None = 1  # None: the executor says (see Executor.default_max_workers)
    max_num_splits: int = 100_000
    namespace: str | None = None
    run_id_file: str | None = None
    flow_file: str = ""
    origin_run_id: str | None = None  # resume: the run whose successful tasks are cloned
    rerun_steps: frozenset[str] | set[str] = frozenset()  # resume STEP: run these again
    project: Any = None  # ProjectInfo of a @project flow
    run_id: str | None = None  # resume --run-id: the new run's id (else the next one)
    datastore: str = ""  # a local directory or s3://bucket/prefix ("": the home directory)
    s3_endpoint_url: str | None = None
    cache_bytes: int = 0  # the size this machine's blob cache of a remote datastore is kept to
    metadata: str = "local"  # where runs are recorded: "local" or a postgresql:// URL
    package_suffixes: tuple[str, ...] = (".py",)  # the files the code package takes
    use_cache: bool = True  # --no-cache: @cache steps run (and record their keys) all the same
    environments: dict[str, Any] = field(default_factory=dict)  # step -> its built Environment
    fire: Any = None  # a Fire: the scheduler started this run of a deployment
    trigger: dict[str, Any] | None = None  # an orchestrator's run: what fired it (current.trigger)


@dataclass
class RunOutcome:
    run_id: str
    ok: bool
    failures: list[tuple[TaskSpec, TaskResult]]
    seconds: float


class LocalRun:
    """Runs a flow on this machine with one executor."""

    #: A @parallel gang's first task brings the others along (a one-task run has one).
    starts_gangs = True

    def __init__(
        self,
        flow_cls: type[FlowSpec],
        graph: Any,
        *,
        home: Path,
        username: str,
        options: RunOptions,
        executor: Executor,
        reporter: Reporter,
        metadata_factory: Callable[[], Any],
    ) -> None:
        self.flow_cls = flow_cls
        self.graph = graph
        self.home = home
        self.username = username
        self.options = options
        self.executor = executor
        self.reporter = reporter
        self._metadata_factory = metadata_factory
        self._selector = selectors.DefaultSelector()
        self._running: dict[tuple[str, int], TaskHandle] = {}
        self._finished: list[TaskHandle] = []
        self._pipe_logs: dict[int, TaskLog | None] = {}  # open pipe -> its log (None: result)
        self._admission = Admission(graph, Capacity.of_this_machine())
        self._held: TaskSpec | None = None
        self._time_limits = time_limits(graph)
        self._deadlines: dict[tuple[str, int], float] = {}
        self._resume: Resume | None = None
        self._cache: StepCache | None = None
        self._log_uploader: LogUploader | None = None

    # -- the loop's plumbing ---------------------------------------------------------
    def _add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        self._selector.register(fd, selectors.EVENT_READ, callback)

    def _remove_reader(self, fd: int) -> None:
        self._selector.unregister(fd)

    def _on_exit(self, handle: TaskHandle, code: int) -> None:
        """The task's process ended: take what its pipes still hold, then close them.

        A process the step left running in the background may still hold the
        pipes open; it must not hold up the run, so they are not waited on.
        """
        handle.exit_status = code
        for fd in list(handle.open_fds):
            while fd in handle.open_fds and self._read_pipe(handle, fd):
                pass
            if fd in handle.open_fds:
                self._close_pipe(handle, fd)
        self._maybe_finished(handle)

    def _maybe_finished(self, handle: TaskHandle) -> None:
        if handle.finished and self._running.pop(handle.spec.key, None) is not None:
            self._finished.append(handle)

    def _on_pipe(self, handle: TaskHandle, fd: int) -> None:
        if fd in handle.open_fds:  # an exit handled earlier in this round may have closed it
            self._read_pipe(handle, fd)
            self._maybe_finished(handle)

    def _read_pipe(self, handle: TaskHandle, fd: int) -> bool:
        """Read once; False when nothing is there now or the pipe closed."""
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self._close_pipe(handle, fd)
            return False
        log = self._pipe_logs[fd]
        if log is None:
            handle.result_bytes += data
        else:
            log.feed(data)
        return True

    def _close_pipe(self, handle: TaskHandle, fd: int) -> None:
        self._remove_reader(fd)
        os.close(fd)
        handle.open_fds.discard(fd)
        log = self._pipe_logs.pop(fd)
        if log is not None:
            log.close()

    def _say(self, text: str) -> None:
        if not self.reporter.quiet:
            self.reporter.status(text)

    # -- the run ---------------------------------------------------------------------
    def run(self) -> RunOutcome:
        started = time.monotonic()
        info = RunInfo(
            flow_name=self.flow_cls.__name__,
            run_id="",
            home=str(self.home),
            username=self.username,
            namespace=self.options.namespace,
            tags=frozenset(self.options.tags),
            origin_run_id=self.options.origin_run_id,
            parameter_names=tuple(p.name for p in self.flow_cls._sw_parameters().values()),
            max_num_splits=self.options.max_num_splits,
            flow_file=self.options.flow_file,
            project=self.options.project.as_current() if self.options.project else None,
            trigger=self.options.fire.trigger if self.options.fire else self.options.trigger,
            datastore=self.options.datastore,
            s3_endpoint_url=self.options.s3_endpoint_url,
            cache_bytes=self.options.cache_bytes,
            metadata=self.options.metadata,
        )
        worker = WorkerContext(info=info, flow_cls=self.flow_cls, graph=self.graph)
        ctx = ExecutorContext(
            self._add_reader, self._remove_reader, self._on_exit, worker, info,
            extra={"say": self._say},  # what an executor tells the user on long work
        )  # fmt: skip
        self.executor.start(ctx)  # forks the zygote: before any thread or connection exists
        if self.executor.places_by_resources:
            self._admission = Admission(self.graph, Capacity.unlimited())
        if self.options.max_workers is None:
            self.options.max_workers = self.executor.default_max_workers() or os.cpu_count() or 1
        try:  # only now may this process open S3: its client's threads do not survive a fork
            code_key = self._prepare_datastore(worker)
        except BaseException:
            self.executor.close()
            raise
        self.metadata = self._metadata_factory()
        run_id = self._open_run(info, worker, code_key)
        ctx.info = worker.info = info = replace(info, run_id=run_id, code_key=code_key)
        self.reporter.run_started(info.flow_name, run_id, self.username)
        if self.options.origin_run_id is not None:
            self._resume = Resume(
                self.metadata, info.flow_name, self.options.origin_run_id,
                set(self.options.rerun_steps),
            )  # fmt: skip
        if any(node.decorator("cache") is not None for node in self.graph):
            self._cache = StepCache(
                self.metadata, self.graph, self.flow_cls, flow_file=self.options.flow_file,
                datastore=info.datastore_url, version=_stepwell_version(),
                lookup=self.options.use_cache,
            )  # fmt: skip
        scheduler = self._scheduler(run_id)
        try:  # storing the parameters may fail too (the datastore went away): a failed run
            self._queue_first(scheduler, worker)
            ok = self._loop(scheduler)
        except BaseException as exc:  # Ctrl-C, or the executor itself broke: nothing left running
            self._interrupt()
            self.executor.close()
            self._finish_logs()
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{exc}"
            self._close_run(run_id, False, reason)
            raise
        self.executor.close()
        self._finish_logs()
        self._close_run(run_id, ok, None if ok else _summary(scheduler.failed_tasks))
        outcome = RunOutcome(run_id, ok, scheduler.failed_tasks, time.monotonic() - started)
        if self._cache is not None and self._cache.hits and not self.reporter.quiet:
            self.reporter.status(f"{self._cache.hits} task(s) reused from the @cache.")
        self.reporter.run_finished(outcome)
        return outcome

    def _prepare_datastore(self, worker: WorkerContext) -> str | None:
        """Check the datastore can be used, and store the code package; its key."""
        storage = worker.store.storage
        storage.check()
        if storage.is_remote:  # logs go there too
            self._log_uploader = LogUploader(storage)
            if worker.info.cache_root is not None:
                from stepwell.store import prune_cache

                prune_cache(worker.info.cache_root, self.options.cache_bytes)
        return self._save_code(worker)

    def _save_code(self, worker: WorkerContext) -> str | None:
        """Store the code package of the flow's directory; its key (None: no flow file)."""
        from stepwell.runtime._package import save_package

        flow_file = self.options.flow_file
        if not flow_file or not Path(flow_file).is_file():
            return None
        return save_package(
            worker.store,
            flow_file,
            self.flow_cls.__name__,
            _stepwell_version(),
            suffixes=self.options.package_suffixes,
            environments=self.options.environments,
        )

    def _finish_logs(self) -> None:
        """Wait for the last log uploads; say (without failing the run) what could not go."""
        if self._log_uploader is None:
            return
        uploader = self._log_uploader
        uploader.close()
        for error in uploader.errors:
            self.reporter.status(f"Warning: a task log was not uploaded (kept locally): {error}")
        if uploader.skipped:
            self.reporter.status(
                f"Warning: {uploader.skipped} more task log(s) were not uploaded after that; "
                f"they are kept in {self.home / 'logs'}."
            )

    # -- what a one-task run (runtime/_onetask.py) does differently ----------------------
    def _open_run(self, info: RunInfo, worker: WorkerContext, code_key: str | None) -> str:
        """Record the run; its id."""
        return self._new_run(info, code_key)

    def _queue_first(self, scheduler: Scheduler, worker: WorkerContext) -> None:
        """Store the parameters and queue the start task."""
        scheduler.start(self._save_parameters(worker))

    def _close_run(self, run_id: str, ok: bool, error: str | None) -> None:
        """Record how the run ended."""
        status = "succeeded" if ok else "failed"
        self.metadata.finish_run(self.flow_cls.__name__, run_id, status, error=error)

    def _system_tags(self, runtime: str = "local") -> list[str]:
        system_tags = [
            f"user:{self.username}",
            f"runtime:{runtime}",
            f"python_version:{platform.python_version()}",
            f"stepwell_version:{_stepwell_version()}",
        ]
        if self.options.project is not None:
            system_tags += self.options.project.system_tags()
        if self.options.fire is not None:
            system_tags += self.options.fire.system_tags()
        if self.options.namespace and self.options.namespace not in system_tags:
            system_tags.append(self.options.namespace)  # the run belongs to its namespace
        return system_tags

    def _parameters_json(self) -> dict[str, str]:
        return parameters_as_json(self.options.parameters)

    def _new_run(self, info: RunInfo, code_key: str | None = None) -> str:
        run_id = self.metadata.new_run(
            info.flow_name,
            user=self.username,
            tags=list(self.options.tags),
            system_tags=self._system_tags(),
            parameters=self._parameters_json(),
            pid=os.getpid(),
            host=platform.node(),
            origin_run_id=self.options.origin_run_id,
            run_id=self.options.run_id,
            code_key=code_key,
            datastore=info.datastore_url,
        )
        if self.options.fire is not None:
            from stepwell.runtime._fired import fire_started

            fire_started(self.metadata, self.options.fire, str(run_id))
        if self.options.run_id_file:
            Path(self.options.run_id_file).write_text(run_id)
        return str(run_id)

    def _save_parameters(self, worker: WorkerContext) -> dict[str, Any]:
        from stepwell.store import save_artifacts

        values = self.options.parameters
        stored = {k: v.ref for k, v in values.items() if isinstance(v, StoredValue)}
        fresh = {k: v for k, v in values.items() if k not in stored}
        refs = {**save_artifacts(worker.store, fresh), **stored}
        return {name: refs[name] for name in values}

    def _failure_policies(self) -> dict[str, RetryPolicy]:
        """@retry / @catch of each step, as the scheduler applies them."""
        return failure_policies(self.graph)

    def _scheduler(self, run_id: str) -> Scheduler:
        self._policies = self._failure_policies()
        return Scheduler(
            self.graph,
            self.flow_cls.__name__,
            run_id,
            start_step=self.graph.start,
            end_step=self.graph.end,
            retries=self._policies,
        )

    def _loop(self, scheduler: Scheduler) -> bool:
        next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        while True:
            if not scheduler.failed:
                self._launch_ready(scheduler)
            if not self._running and (scheduler.failed or not scheduler.has_pending()):
                return scheduler.end_reached and not scheduler.failed
            timeout = next_heartbeat - time.monotonic()
            wakeup = scheduler.next_wakeup()
            if wakeup is not None:
                timeout = min(timeout, wakeup - time.monotonic())
            timeout = min(timeout, self.reporter.refresh_interval)
            if self._deadlines:
                timeout = min(timeout, min(self._deadlines.values()) - time.monotonic())
            for key, _ in self._selector.select(max(timeout, 0.0)):
                key.data()
            self._enforce_time_limits()
            if self._finished:
                self._complete(scheduler)
            now = time.monotonic()
            if now >= next_heartbeat:
                self.metadata.heartbeat(self.flow_cls.__name__, scheduler.run_id)
                next_heartbeat = now + HEARTBEAT_SECONDS
            if self._log_uploader is not None:
                for log in self._pipe_logs.values():
                    if log is not None:
                        log.upload_due(now)
            self.reporter.tick(scheduler.counts, len(self._running))

    def _launch_ready(self, scheduler: Scheduler) -> None:
        launches = []
        clones: list[tuple[TaskSpec, TaskResult]] = []
        while len(self._running) < (self.options.max_workers or 1):
            spec = self._held or scheduler.next_task()
            self._held = None
            if spec is None:
                break
            cloned = self._resume.clone(spec) if self._resume is not None else None
            if cloned is None and self._cache is not None and self._cache.applies(spec):
                if clones and self.graph[spec.step_name].is_join:  # its key reads its inputs
                    self.metadata.record_tasks([_outcome(s, r) for s, r in clones])
                    clones = []
                cached = self._cache.reuse(spec)
                if cached is not None:  # @cache: an earlier task stands in; nothing runs
                    clones.append((spec, cached))
                    scheduler.task_succeeded(spec, cached)
                    self._cache.report(self.reporter, spec, cached)
                    continue
            if cloned is not None:  # resume: the origin's task stands in; nothing runs
                clones.append((spec, cloned))
                scheduler.task_succeeded(spec, cloned)
                self.reporter.task_cloned(spec, cloned)
                continue
            if not self._admission.fits(spec.step_name, len(self._running)):
                self._held = spec  # waits, first in line, until resources free up
                break
            if clones:  # a task about to run may read them: record them first
                self.metadata.record_tasks([_outcome(s, r) for s, r in clones])
                clones = []
            launches.append(self._launch(spec))
            gang = spec.frames[-1] if spec.frames and self.starts_gangs else None
            if gang and gang.kind == "parallel" and gang.index == 0 and spec.attempt == 0:
                # A @parallel gang starts together, even past --max-workers: its
                # tasks may wait for each other.
                for _ in range(gang.width - 1):
                    member = scheduler.next_task()
                    assert member is not None
                    launches.append(self._launch(member))
        if clones:
            self.metadata.record_tasks([_outcome(s, r) for s, r in clones])
        if launches:
            self.metadata.register_tasks(launches)

    def _enforce_time_limits(self) -> None:
        """Stop, from outside, every task past its @timeout (it may be stuck in C code)."""
        now = time.monotonic()
        for key, deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[key]
                handle = self._running.get(key)
                if handle is not None:
                    handle.timed_out = True
                    self.executor.terminate(handle, signal.SIGKILL)

    def _launch(self, spec: TaskSpec) -> Any:
        from stepwell.metadata import TaskLaunch

        handle = self.executor.launch(spec)
        handle.launched_at = time.time()
        self._admission.take(spec.step_name)
        limit = self._time_limits.get(spec.step_name)
        if limit is not None and spec.caught is None:
            self._deadlines[spec.key] = time.monotonic() + limit[0]
        self._running[spec.key] = handle
        logs = [
            TaskLog(self.home, spec, stream, self.reporter.log_line, self._log_uploader)
            for stream in STREAMS
        ]
        pipes = (handle.stdout_fd, handle.stderr_fd, handle.result_fd)
        for fd, log in zip(pipes, (*logs, None), strict=True):
            os.set_blocking(fd, False)
            self._pipe_logs[fd] = log
            self._add_reader(fd, functools.partial(self._on_pipe, handle, fd))
        self.reporter.task_launched(spec)
        return TaskLaunch(
            flow_name=spec.flow_name,
            run_id=spec.run_id,
            step_name=spec.step_name,
            task_id=spec.task_id,
            attempt=spec.attempt,
            parent_task_ids=spec.input_task_ids,
            foreach_stack=spec.frames_json,
            index=spec.foreach_index,
            started_at=handle.launched_at,
        )

    def _complete(self, scheduler: Scheduler) -> None:
        finished, self._finished = self._finished, []
        for handle in finished:
            self._admission.release(handle.spec.step_name)
            self._deadlines.pop(handle.spec.key, None)
        results = [(h.spec, self._result(h)) for h in finished]
        if self._cache is not None:
            for spec, result in results:
                self._cache.finished(spec, result)
        crash_point("scheduler.before-record")
        self.metadata.record_tasks(
            [_outcome(spec, result, self._environment_of(spec)) for spec, result in results]
        )
        crash_point("scheduler.after-record")
        for spec, result in results:
            if result.ok:
                scheduler.task_succeeded(spec, result)
                self.reporter.task_succeeded(spec, result)
            else:
                retrying = scheduler.task_failed(spec, result)
                policy = self._policies.get(spec.step_name)
                caught = retrying and policy is not None and spec.attempt >= policy.times
                self.reporter.task_failed(spec, result, retrying, caught)

    def _environment_of(self, spec: TaskSpec) -> dict[str, str]:
        """The ``environment`` metadata entry of a task of a @pypi / @conda step."""
        environment = self.options.environments.get(spec.step_name)
        if environment is None:
            return {}
        return {"environment": json.dumps(environment.describe(), sort_keys=True)}

    def _result(self, handle: TaskHandle) -> TaskResult:
        if handle.timed_out:
            seconds, written = self._time_limits[handle.spec.step_name]
            return TaskResult(
                task_id=handle.spec.task_id,
                attempt=handle.spec.attempt,
                ok=False,
                exception_type="TimeoutError",
                exception=(
                    f"Step '{handle.spec.step_name}' ran longer than its {written} "
                    f"({seconds:g} s); the task was stopped."
                ),
                started_at=handle.launched_at,
                finished_at=time.time(),
            )
        if handle.result_bytes:
            try:
                result: TaskResult = pickle.loads(handle.result_bytes)
                return result
            except Exception:
                pass
        assert handle.exit_status is not None
        return TaskResult.crashed(
            handle.spec, handle.exit_status, started=handle.launched_at, at=time.time()
        )

    def _interrupt(self) -> None:
        for handle in list(self._running.values()):
            self.executor.terminate(handle, signal.SIGKILL)


def _outcome(spec: TaskSpec, result: TaskResult, extra: dict[str, str] | None = None) -> Any:
    from stepwell.metadata import TaskOutcome

    artifacts = [record_of(name, ref) for name, ref in result.artifacts.items()]
    exception = None
    if not result.ok:
        exception = result.traceback or f"{result.exception_type}: {result.exception}"
    return TaskOutcome(
        flow_name=spec.flow_name,
        run_id=spec.run_id,
        step_name=spec.step_name,
        task_id=spec.task_id,
        attempt=spec.attempt,
        status="succeeded" if result.ok else "failed",
        finished_at=result.finished_at or None,
        started_at=result.started_at or None,
        exception=exception,
        artifacts=artifacts,
        parent_task_ids=spec.input_task_ids,
        foreach_stack=spec.frames_json,
        index=spec.foreach_index,
        next_steps=result.next_steps,
        split_count=result.num_splits,
        metadata={**result.metadata, **_transition_metadata(result), **(extra or {})},
        origin_pathspec=result.origin_pathspec,
        reads=result.reads,
    )


def _transition_metadata(result: TaskResult) -> dict[str, str]:
    """What resume needs to replay a task's transition without running it."""
    if not result.ok or not result.next_steps:
        return {}
    transition = {
        "foreach": result.foreach,
        "condition": result.condition,
        "num_parallel": result.num_parallel,
        "items_key": result.items_key,
    }
    return {"transition": json.dumps({k: v for k, v in transition.items() if v is not None})}


def _stepwell_version() -> str:
    from stepwell._version import __version__

    return __version__


def _summary(failures: list[tuple[TaskSpec, TaskResult]]) -> str:
    if not failures:
        return "the run did not reach its end step"
    spec, result = failures[0]
    return f"{spec.pathspec} failed: {result.exception_type}: {result.exception}"
