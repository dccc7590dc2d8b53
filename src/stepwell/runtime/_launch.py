"""``start_run``: from a flow class and command-line values to a finished local run."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepwell.config import Settings
from stepwell.exceptions import ConfigError, RunStopped, StepwellError
from stepwell.flow import FlowSpec
from stepwell.metadata import is_local, open_configured_metadata
from stepwell.runtime._envexec import with_environments
from stepwell.runtime._graphprep import _build_environments, prepare_graph
from stepwell.runtime._params import StoredValue, resolve_parameters
from stepwell.runtime._policies import Admission, Capacity
from stepwell.runtime._project import project_of
from stepwell.runtime._refs import refs_of
from stepwell.runtime._report import Reporter, make_reporter
from stepwell.runtime._resume import find_origin, steps_from
from stepwell.runtime._run import LocalRun, RunOptions, RunOutcome
from stepwell.runtime._secrets import resolve_secrets


def start_run(
    flow_cls: type[FlowSpec],
    settings: Settings,
    *,
    flow_file: str,
    raw_parameters: Mapping[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    executor: str | None = None,
    max_workers: int | None = None,
    max_num_splits: int | None = None,
    namespace: str | None = None,
    run_id_file: str | None = None,
    quiet: bool = False,
    reporter: Reporter | None = None,
    with_decorators: tuple[str, ...] = (),
    resume: ResumeRequest | None = None,
    branch: str | None = None,
    production: bool = False,
    use_cache: bool = True,
) -> RunOutcome:
    """Validate everything that can be validated, then run (or resume) the flow locally."""
    from stepwell.graph import check_flow
    from stepwell.runtime import EXECUTORS

    graph = check_flow(flow_cls)
    username = settings.username
    home = Path(settings.home)
    datastore = settings.datastore_url  # a bad datastore setting stops the run here
    from stepwell.store import open_storage

    # The URL and the client library are checked now; the first request (the bucket's
    # check) waits until the run has forked its workers.
    open_storage(datastore, endpoint_url=settings.s3_endpoint_url)
    _check_metadata(settings)  # a wrong URL or a missing schema stops the run here
    origin_run_id = None
    if resume is not None:
        origin_run_id, parameters = _origin(
            flow_cls, settings, username, resume, str(graph.start), datastore
        )
    else:
        parameters = resolve_parameters(flow_cls, raw_parameters or {}, user=username)
    decorators = prepare_graph(graph, flow_cls, parameters, with_decorators)
    project = project_of(flow_cls, username, branch, production, decorators=decorators)
    executor_name = executor or settings.executor
    if executor_name not in EXECUTORS:
        raise ConfigError(
            f"Unknown executor {executor_name!r}; available: {', '.join(sorted(EXECUTORS))}."
        )
    base_executor = EXECUTORS[executor_name](settings)
    if not base_executor.places_by_resources:  # a cluster checks requests against its nodes
        Admission(graph, Capacity.of_this_machine(), strict=settings.resources_strict).check(graph)
    for node in graph:  # a missing secret is found now, not after the run started
        secrets = node.decorator("secrets")
        if secrets is not None:
            resolve_secrets(secrets.sources)
    home.mkdir(parents=True, exist_ok=True)
    reporter = reporter or make_reporter(quiet)
    fire = _own_fire(settings, reporter)
    if fire is False:
        return RunOutcome("", True, [], 0.0)  # another process is this fire's run
    environments = _build_environments(graph, decorators, settings, reporter)
    options = RunOptions(
        parameters=parameters,
        tags=tags,
        # unset: the executor's default (this machine's CPUs; a Ray cluster's)
        max_workers=max_workers
        or (None if settings.source("max_workers") == "default" else settings.max_workers),
        max_num_splits=max_num_splits or settings.max_num_splits,
        namespace=namespace or _default_namespace(username, project),
        run_id_file=run_id_file,
        flow_file=flow_file,
        origin_run_id=origin_run_id,
        rerun_steps=steps_from(graph, resume.step) if resume and resume.step else frozenset(),
        project=project,
        run_id=resume.run_id if resume is not None else None,
        datastore=datastore,
        s3_endpoint_url=settings.s3_endpoint_url,
        cache_bytes=settings.cache_bytes,
        metadata=settings.metadata,
        package_suffixes=tuple(settings.package_suffixes),
        use_cache=use_cache,
        environments=environments,
        fire=fire,
    )
    shim = _shim(home) if environments else None
    run = LocalRun(
        flow_cls,
        graph,
        home=home,
        username=username,
        options=options,
        executor=base_executor
        if base_executor.handles_environments
        else with_environments(base_executor, environments, shim),
        reporter=reporter,
        metadata_factory=lambda: open_configured_metadata(settings),
    )
    with _stop_on_signals(), _environments_in_use(home, environments):
        return run.run()


def _own_fire(settings: Settings, reporter: Reporter) -> Any:
    """The Fire this run is (started by ``stepwell scheduler``), None, or False: not ours."""
    from stepwell.runtime._fired import fire_from_env, own_fire

    fire = fire_from_env()
    if fire is None:
        return None
    metadata = open_configured_metadata(settings)
    try:
        if not own_fire(metadata, fire):
            reporter.status(
                f"Fire {fire.fire_key} of deployment {fire.deployment} has another run; "
                "this process starts none."
            )
            return False
    finally:
        metadata.close()
    return fire


def _shim(home: Path) -> Path:
    from stepwell.environments import EnvironmentStore

    return EnvironmentStore(home / "environments").shim()


@contextmanager
def _environments_in_use(home: Path, environments: dict[str, Any]) -> Iterator[None]:
    """While the run lasts, ``stepwell environments prune`` leaves its environments alone."""
    if not environments:
        yield
        return
    from stepwell.environments import EnvironmentStore

    with EnvironmentStore(home / "environments").in_use(list(environments.values())):
        yield


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM / SIGHUP end the run as Ctrl-C does: tasks stopped, the run recorded as stopped.

    Only the main thread may set handlers; elsewhere the defaults stay.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise RunStopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_metadata(settings: Settings) -> None:
    """One connection to the metadata store, closed again: no pool or thread before the fork."""
    if is_local(settings.metadata):
        return  # the SQLite file is created on first use
    metadata = open_configured_metadata(settings)
    try:
        metadata.check()
    finally:
        metadata.close()


def _default_namespace(username: str, project: Any) -> str:
    """A local run is in its user's namespace, @project or not (as Metaflow documents).

    A @project run is told apart by its ``project_branch:<branch>`` system tag:
    ``namespace("project_branch:test.exp")`` or ``Flow(...).runs("project_branch:...")``.
    """
    return f"user:{username}"


@dataclass(frozen=True)
class ResumeRequest:
    """``resume [STEP] [--origin-run-id ID]``."""

    step: str | None = None
    origin_run_id: str | None = None
    run_id: str | None = None  # the new run's id, chosen by the caller


def _origin(
    flow_cls: type[FlowSpec],
    settings: Settings,
    username: str,
    request: ResumeRequest,
    start: str,
    datastore: str,
) -> tuple[str, dict[str, Any]]:
    """The run to resume and its parameter values (the origin's, not new ones).

    Values already stored are not read here but referred to (:class:`StoredValue`):
    this process must not open an object store before the run forks its workers.
    """
    home = Path(settings.home)
    if is_local(settings.metadata) and not (home / "stepwell.db").exists():
        raise StepwellError(f"There is no run of {flow_cls.__name__} to resume in {home}.")
    metadata = open_configured_metadata(settings)
    try:
        origin = find_origin(metadata, flow_cls.__name__, request.origin_run_id, username)
        _check_same_datastore(origin, datastore)
        declared = flow_cls._sw_parameters()
        values: dict[str, Any] = {}
        starts = [t for t in metadata.list_tasks(flow_cls.__name__, origin.run_id)
                  if t.step_name == start and t.status == "succeeded"]  # fmt: skip
        if starts:
            records = metadata.list_artifacts(
                flow_cls.__name__, origin.run_id, starts[0].step_name, starts[0].task_id
            )
            refs = refs_of({name: records[name] for name in declared if name in records})
            values = {
                name: _origin_value(ref, declared[name], origin.parameters.get(name), datastore)
                for name, ref in refs.items()
            }
        for name in declared:
            if name not in values and name in origin.parameters:
                values[name] = json.loads(origin.parameters[name])
        return origin.run_id, {name: values.get(name) for name in declared}
    finally:
        metadata.close()


def _check_same_datastore(origin: Any, datastore: str) -> None:
    """resume refers to the origin's blobs: the new run must use the same datastore."""
    if origin.datastore and origin.datastore != datastore:
        kind = "s3" if origin.datastore.startswith("s3://") else "local"
        raise ConfigError(
            f"Run {origin.pathspec} stored its data in {origin.datastore}, but this run would "
            f"use {datastore}. resume reuses the origin's stored values, so it needs the same "
            f"datastore: pass --datastore {kind} --datastore-root {origin.datastore}."
        )


def _origin_value(ref: Any, parameter: Any, json_text: str | None, datastore: str) -> Any:
    """A parameter's value in the origin run: read when it is inline or local, else referred to."""
    from stepwell.store import ContentStore, load_artifact, open_storage

    storage = open_storage(datastore)
    if ref.inline is not None or not storage.is_remote:  # read without a request
        return load_artifact(ContentStore(storage), ref)
    if parameter.kind == "config" and json_text is not None:
        return json.loads(json_text)  # decorators need a Config's value before the run
    return StoredValue(ref, json_text or "null")
