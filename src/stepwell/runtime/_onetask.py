"""The one-task command: run exactly one task of a run, in this process's machine, and record it.

``python flow.py task STEP --run-key KEY [--input STEP/TASK ...] [--split-index N]``
is what an orchestrator (Argo Workflows, Airflow) runs for each node of a
deployed flow, in a fresh container or process. The orchestrator decides
*when* a task runs; everything else is a local run's: the task is forked
from this process like any local task (logs captured and shown live, a
crash isolated), its inputs are read from the datastore, and the attempt is
recorded in the metadata store with the same @retry / @catch / @timeout
semantics — by :class:`~stepwell.runtime._run.LocalRun` itself, given a
scheduler that holds this one task (``Scheduler.start_one``).

- The start task creates the run under the orchestrator's run key (a retried
  start task finds it); every other task finds the run by key or id.
- Without ``--attempt``, every @retry attempt runs here (delays honoured) and
  then the @catch fallback. With ``--attempt N`` (the orchestrator retries),
  only attempt N runs: a failure that @retry would retry exits non-zero and
  leaves the run going; on the last attempt @catch applies here.
- The end task's success ends the run as succeeded; a failure no retry will
  follow ends it as failed.
- The result (:class:`TaskOutcomeSummary`) is printed as the last line on stdout
  and written into ``--output-dir``: what the orchestrator wires the next
  tasks with (the pathspec, a foreach's split indexes, a switch's choice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepwell.config import Settings
from stepwell.exceptions import ConfigError, NotFoundError
from stepwell.flow import FlowSpec
from stepwell.metadata import open_configured_metadata
from stepwell.runtime._envexec import with_environments
from stepwell.runtime._graphprep import OneStepGraph, _build_environments, prepare_graph
from stepwell.runtime._launch import _environments_in_use, _shim, _stop_on_signals
from stepwell.runtime._report import Reporter
from stepwell.runtime._run import RunOptions
from stepwell.runtime._secrets import resolve_secrets
from stepwell.runtime._spec import TaskSpec
from stepwell.store import open_storage


@dataclass(frozen=True)
class TaskRequest:
    """``task STEP`` and its options (see the module docstring)."""

    step: str
    run_key: str | None = None
    run_id: str | None = None
    inputs: tuple[str, ...] = ()  # STEP/TASK or Flow/RUN/STEP/TASK
    inputs_of_split: str | None = None  # a join: every task closing this task's split
    split_index: int | None = None
    attempt: int | None = None  # None: every attempt here
    raw_parameters: dict[str, Any] = field(default_factory=dict)  # start only
    tags: tuple[str, ...] = ()  # start only
    runtime: str = "task"  # the run's runtime:NAME system tag
    code_key: str | None = None  # the code package this task runs from, when given
    trigger: dict[str, Any] | None = None  # what started the run: current.trigger in every task
    output_dir: str | None = None


@dataclass(frozen=True)
class TaskOutcomeSummary:
    """What the one-task command reports: enough for an orchestrator to wire what follows."""

    pathspec: str
    run_id: str
    task_id: str
    step: str
    status: str  # succeeded | failed
    attempt: int
    next_steps: tuple[str, ...] = ()
    splits: tuple[int, ...] = ()  # a foreach: 0..n-1
    chosen: str | None = None  # a switch: the step it chose
    retryable: bool = False  # failed, and @retry leaves the orchestrator attempts to make
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def as_json(self) -> str:
        return json.dumps({**self.__dict__, "next_steps": list(self.next_steps),
                           "splits": list(self.splits)}, sort_keys=True)  # fmt: skip

    def write(self, folder: str | Path) -> None:
        """One file per field an orchestrator reads (Argo: ``valueFrom.path``), and result.json."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        fields = {
            "pathspec": self.pathspec, "run_id": self.run_id, "task_id": self.task_id,
            "next_steps": json.dumps(list(self.next_steps)),
            "splits": json.dumps(list(self.splits)), "chosen": self.chosen or "",
            "status": self.status,
        }  # fmt: skip
        for name, text in fields.items():
            (out / name).write_text(text)
        (out / "result.json").write_text(self.as_json())


def run_one_task(
    flow_cls: type[FlowSpec],
    settings: Settings,
    request: TaskRequest,
    *,
    flow_file: str,
    branch: str | None = None,
    production: bool = False,
    reporter: Reporter | None = None,
) -> TaskOutcomeSummary:
    """Run the requested task here and record it; its recorded outcome."""
    from stepwell.graph import check_flow
    from stepwell.runtime._launch import ResumeRequest, _origin
    from stepwell.runtime._onetask_run import OneTaskRun, summarize
    from stepwell.runtime._params import resolve_parameters
    from stepwell.runtime._project import project_of

    graph = check_flow(flow_cls)
    _check_request(graph, request)
    username = settings.username
    datastore = settings.datastore_url
    open_storage(datastore, endpoint_url=settings.s3_endpoint_url)  # a bad URL stops here
    placed = None
    if request.step != graph.start:
        placed = _place(flow_cls, graph, settings, request)
        _, parameters = _origin(
            flow_cls, settings, username, ResumeRequest(origin_run_id=placed.run_id),
            str(graph.start), datastore,
        )  # fmt: skip
    else:
        parameters = resolve_parameters(flow_cls, request.raw_parameters, user=username)
    decorators = prepare_graph(graph, flow_cls, parameters)
    project = project_of(flow_cls, username, branch, production, decorators=decorators)
    node = graph[request.step]
    secrets = node.decorator("secrets")
    if secrets is not None:  # a missing secret is found before anything is recorded
        resolve_secrets(secrets.sources)
    reporter = reporter or TaskReporter()
    environments = _environments(request, node, OneStepGraph(graph, node), decorators, settings)
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    options = RunOptions(
        parameters=parameters, tags=request.tags, max_workers=1,
        max_num_splits=settings.max_num_splits, namespace=f"user:{username}",
        flow_file=flow_file, project=project, datastore=datastore,
        s3_endpoint_url=settings.s3_endpoint_url, cache_bytes=settings.cache_bytes,
        metadata=settings.metadata, package_suffixes=tuple(settings.package_suffixes),
        environments=environments, trigger=request.trigger,
    )  # fmt: skip
    run = OneTaskRun(
        flow_cls, graph, home=home, username=username, options=options,
        executor=_executor(settings, environments, home), reporter=reporter,
        metadata_factory=lambda: open_configured_metadata(settings),
        request=request, placed=placed,
    )  # fmt: skip
    with _stop_on_signals(), _environments_in_use(home, environments):
        run.run()
    assert run.spec is not None
    try:  # read back through the run's own connection, then let it go
        summary = summarize(run.metadata, run.spec, run.retryable)
    finally:
        run.metadata.close()
    if request.output_dir is not None:
        summary.write(request.output_dir)
    return summary


def _check_request(graph: Any, request: TaskRequest) -> None:
    if request.step not in graph:
        steps = ", ".join(n.name for n in graph)
        raise ConfigError(f"task {request.step!r}: the flow has no such step; its steps: {steps}.")
    if (request.run_key is None) == (request.run_id is None):
        raise ConfigError(
            "task: give the run as --run-key KEY (an orchestrator's id of the run; the start "
            "task creates it) or as --run-id ID, one of the two."
        )
    if request.step == graph.start and (request.inputs or request.split_index is not None):
        raise ConfigError(f"task {request.step!r}: the start step takes no --input.")
    if request.step != graph.start and not (request.inputs or request.inputs_of_split):
        raise ConfigError(
            f"task {request.step!r}: give its input task(s) with --input STEP/TASK_ID "
            "(a join: every input of the split it closes, or --inputs-of-split with the task "
            "that made the split)."
        )
    if request.step != graph.start and (request.raw_parameters or request.tags):
        raise ConfigError(
            f"task {request.step!r}: parameters and tags are given to the start task, which "
            "records the run; later tasks read them from the run."
        )
    if request.attempt is not None and request.attempt < 0:
        raise ConfigError(f"task: --attempt must be 0 or more, got {request.attempt}.")


def _place(flow_cls: type[FlowSpec], graph: Any, settings: Settings, request: TaskRequest) -> Any:
    """The task's spec in its run (found by key or id), from its inputs' records."""
    from stepwell.runtime._placement import inputs_closing, parse_input, place_task

    flow = flow_cls.__name__
    metadata = open_configured_metadata(settings)
    try:  # closed again before the task forks: no connection crosses a fork
        run_id = request.run_id
        if request.run_key is not None:
            run_id = metadata.run_id_of_key(flow, request.run_key)
            if run_id is None:
                raise NotFoundError(
                    f"No run of {flow} has run key {request.run_key!r}: its start task creates "
                    "it, so run the start task first (with the same --run-key).",
                    run_key=request.run_key,
                )
        assert run_id is not None
        metadata.get_run(flow, run_id)  # a NotFoundError naming the run
        inputs = [parse_input(text, flow, run_id) for text in request.inputs]
        if request.inputs_of_split is not None:
            splitter = parse_input(request.inputs_of_split, flow, run_id)
            inputs += inputs_closing(metadata, graph, flow, run_id, request.step, splitter)
        names = [p.name for p in flow_cls._sw_parameters().values()]
        return place_task(
            metadata, graph, flow, run_id, request.step, inputs, request.split_index, names
        )
    finally:
        metadata.close()


def _environments(
    request: TaskRequest, node: Any, graph: Any, decorators: list[Any], settings: Settings
) -> dict[str, Any]:
    """The step's @pypi / @conda environment: from the lock in its code package when the
    task runs from one (the environment the deploying user resolved), else resolved here."""
    from stepwell.runtime._package import INFO_NAME, package_folder, packaged_environment

    if request.code_key is not None:
        folder = package_folder(settings.home, request.code_key)
        if (folder / INFO_NAME).is_file():
            home = Path(settings.home)
            environment = packaged_environment(folder, node.name, home / "environments")
            if environment is not None:
                return {node.name: environment}
    return _build_environments(graph, decorators, settings, TaskReporter())


def _executor(settings: Settings, environments: dict[str, Any], home: Path) -> Any:
    """This machine's executor (a Ray setting does not apply: the task runs here)."""
    from stepwell.runtime import EXECUTORS

    name = settings.executor if settings.executor in ("fork", "subprocess") else "fork"
    executor = EXECUTORS[name](settings)
    if not environments:
        return executor
    return with_environments(executor, environments, _shim(home))


class TaskReporter(Reporter):
    """Plain lines on stderr (the task's own output goes to stdout / stderr as it comes)."""

    def run_started(self, flow_name: str, run_id: str, user: str) -> None:
        self.flow_name = flow_name

    def task_launched(self, spec: TaskSpec) -> None:
        super().task_launched(spec)
        self.status(f"Task {spec.pathspec} (attempt {spec.attempt}) started.")

    def run_finished(self, outcome: Any) -> None:
        pass  # the command prints the task's result
