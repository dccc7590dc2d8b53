"""``spin``: run one task of an earlier run again, in this process, with that task's inputs.

The task is found by ``STEP`` (its first task in your latest run of the flow),
``RUN/STEP`` (its first task in that run) or ``RUN/STEP/TASK``. Its
:class:`TaskSpec` is rebuilt from what the run recorded — the input tasks
(``task_parents``), the enclosing foreach frames and the items each foreach
split stored — so the step's current code sees exactly the inputs the
original task saw: ``self.input``, ``self.index``, the parents' artifacts, a
join's ``inputs``, the run's parameters.

By default nothing is recorded (Metaflow's behaviour): the step's output goes
to the console and its artifacts are dropped from the record. The blobs it
writes go to the run's datastore like any task's. With ``persist`` the task is
recorded as a one-task run in ``<cwd>/.stepwell_spin`` (its own SQLite
metadata; blobs stay in the origin run's datastore), which
``stepwell.inspect_spin(".")`` points the Client at.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepwell.config import Settings
from stepwell.exceptions import ConfigError, NotFoundError, StepwellError
from stepwell.flow import FlowSpec
from stepwell.metadata import TaskLaunch, open_configured_metadata, open_metadata
from stepwell.runtime._context import RunInfo, WorkerContext
from stepwell.runtime._refs import refs_of
from stepwell.runtime._resume import launch_order
from stepwell.runtime._spec import Frame, TaskResult, TaskSpec

#: The folder (in the working directory) that ``spin --persist`` records into.
SPIN_DIR = ".stepwell_spin"


@dataclass(frozen=True)
class SpinRequest:
    """``spin TARGET [--persist] [--artifacts-module M] [--skip-decorators]``."""

    target: str
    persist: bool = False
    artifacts_module: str | None = None
    skip_decorators: bool = False
    spin_root: str | None = None  # where .stepwell_spin goes (default: the working directory)


@dataclass(frozen=True)
class SpinOutcome:
    """What a spin did: the task it ran again, where it was recorded, its result."""

    origin: str  # pathspec of the task whose inputs were used
    pathspec: str | None  # the spun task in the spin store (persist), else None
    result: TaskResult
    spin_home: str | None = None

    @property
    def ok(self) -> bool:
        return self.result.ok


def spin_task(
    flow_cls: type[FlowSpec], settings: Settings, request: SpinRequest, *, flow_file: str
) -> SpinOutcome:
    """Run the requested task's step again, in this process; see the module docstring."""
    from stepwell.graph import check_flow
    from stepwell.runtime._launch import ResumeRequest, _origin, prepare_graph

    graph = check_flow(flow_cls)
    flow_name = flow_cls.__name__
    metadata = open_configured_metadata(settings)
    try:
        run, task = _find_task(metadata, flow_name, graph, request.target, settings.username)
        datastore = run.datastore or settings.datastore_url
        _, parameters = _origin(
            flow_cls, settings, settings.username, ResumeRequest(origin_run_id=run.run_id),
            str(graph.start), datastore,
        )  # fmt: skip
        prepare_graph(graph, flow_cls, parameters)
        node = graph[task.step_name]
        if request.skip_decorators:
            node.decorators = ()
        info = RunInfo(
            flow_name=flow_name,
            run_id=run.run_id,  # inputs are read from the origin run
            home=str(settings.home),
            username=settings.username,
            namespace=f"user:{settings.username}",
            origin_run_id=run.run_id,
            parameter_names=tuple(p.name for p in flow_cls._sw_parameters().values()),
            flow_file=flow_file,
            datastore=datastore,
            s3_endpoint_url=settings.s3_endpoint_url,
            cache_bytes=settings.cache_bytes,
            metadata=settings.metadata,
        )
        ctx = WorkerContext(info=info, flow_cls=flow_cls, graph=graph)
        spec = _rebuild_spec(metadata, run, task, node, flow_cls, ctx, parameters)
        overrides = _load_overrides(request.artifacts_module)
        if overrides:
            spec = _with_overrides(spec, node, ctx, overrides)
    finally:
        metadata.close()
    recorder = _SpinRecorder(request, run, spec, settings.username) if request.persist else None
    if recorder is not None:
        spec = recorder.start()
    result = _run(spec, ctx, settings, node, request)
    pathspec = recorder.finish(spec, result) if recorder is not None else None
    return SpinOutcome(
        origin=task.pathspec,
        pathspec=pathspec,
        result=result,
        spin_home=str(recorder.home) if recorder is not None else None,
    )


def _run(spec: TaskSpec, ctx: WorkerContext, settings: Settings, node: Any, request: Any) -> Any:
    """The task, in this process; or, for a @pypi / @conda step, in its environment."""
    from stepwell.environments import step_environments
    from stepwell.runtime._graphprep import OneStepGraph

    flow_decorators = list(getattr(ctx.flow_cls, "__stepwell_flow_decorators__", ()))
    single = OneStepGraph(ctx.graph, node)
    if request.skip_decorators or not step_environments(single, flow_decorators):
        from stepwell.runtime._task import run_task

        return run_task(spec, ctx)
    from stepwell.runtime._envexec import run_task_in_environment
    from stepwell.runtime._graphprep import _build_environments
    from stepwell.runtime._launch import _shim
    from stepwell.runtime._report import make_reporter

    environment = _build_environments(single, flow_decorators, settings, make_reporter(False))
    shim = _shim(Path(settings.home))
    return run_task_in_environment(environment[node.name], shim, spec, ctx.info, node.decorators)


def spin_home(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder ``spin --persist`` records into: ``<root or cwd>/.stepwell_spin``."""
    return Path(root or Path.cwd()).resolve() / SPIN_DIR


# -- finding the task -----------------------------------------------------------------


def _find_task(metadata: Any, flow: str, graph: Any, target: str, user: str) -> tuple[Any, Any]:
    parts = [p for p in target.strip().split("/") if p]
    if parts and parts[0] == flow:
        parts = parts[1:]
    if not parts or len(parts) > 3:
        raise ConfigError(
            f"spin {target!r}: give a step (train), RUN/STEP (12/train) or RUN/STEP/TASK "
            "(12/train/3)."
        )
    step = parts[0] if len(parts) == 1 else parts[1]
    if step not in {n.name for n in graph}:
        steps = ", ".join(n.name for n in graph)
        raise ConfigError(f"spin {target!r}: {flow} has no step {step!r}; its steps: {steps}.")
    if len(parts) == 1:
        try:
            run = metadata.latest_run(flow, user=user)
        except NotFoundError:
            run = None
        if run is None:
            raise StepwellError(
                f"spin needs an earlier run of {flow} to take the inputs of step '{step}' from, "
                f"and {user} has none. Run the flow first (python flow.py run)."
            )
    else:
        run = metadata.get_run(flow, parts[0])
    try:
        tasks = metadata.list_tasks(flow, run.run_id, step)
    except NotFoundError:
        tasks = []
    if len(parts) == 3:
        tasks = [t for t in tasks if t.task_id == parts[2]]
        if not tasks:
            raise NotFoundError(
                f"spin {target!r}: run {run.run_id} has no task {parts[2]} of step '{step}'.",
                pathspec=f"{flow}/{run.run_id}/{step}/{parts[2]}",
            )
    if not tasks:
        raise StepwellError(
            f"spin {target!r}: run {flow}/{run.run_id} never reached step '{step}' "
            f"(status: {run.status}), so there are no inputs to spin it with. Spin an earlier "
            "step, or run the flow until that step starts."
        )
    return run, min(tasks, key=launch_order)


def _rebuild_spec(
    metadata: Any,
    run: Any,
    task: Any,
    node: Any,
    flow_cls: type[FlowSpec],
    ctx: WorkerContext,
    parameters: dict[str, Any],
) -> TaskSpec:
    flow, run_id = run.flow_name, run.run_id
    step_of = {t.task_id: t.step_name for t in metadata.list_tasks(flow, run_id)}
    frames = []
    for split_task, kind, index, width in json.loads(task.foreach_stack):
        items_key = None
        if kind == "foreach":
            transition = metadata.get_task_metadata(
                flow, run_id, step_of[split_task], split_task
            ).get("transition", "{}")
            items_key = json.loads(transition).get("items_key")
            if items_key is None:
                raise StepwellError(
                    f"spin: the foreach split {flow}/{run_id}/{step_of[split_task]}/{split_task} "
                    "did not record its items (a run made by an older stepwell); run the flow "
                    "again, then spin."
                )
        frames.append(Frame(str(split_task), kind, int(index), int(width), items_key))
    parents = metadata.parent_tasks(flow, run_id, task.step_name, task.task_id)
    if node.is_join:  # the join's inputs in the order of the split they close
        parents.sort(key=lambda p: json.loads(p.foreach_stack)[-1][2])
    unfinished = [p.pathspec for p in parents if p.status != "succeeded"]
    if unfinished:
        raise StepwellError(f"spin: input task(s) {', '.join(unfinished)} did not succeed.")
    parent_refs: dict[str, Any] = {}
    if parents and not node.is_join:
        first = parents[0]
        parent_refs = refs_of(metadata.list_artifacts(flow, run_id, first.step_name, first.task_id))
    return TaskSpec(
        flow_name=flow,
        run_id=run_id,
        step_name=task.step_name,
        task_id=task.task_id,
        input_task_ids=tuple(p.task_id for p in parents),
        input_steps=tuple(p.step_name for p in parents),
        frames=tuple(frames),
        parent_refs=parent_refs,
        param_refs=_param_refs(metadata, run, flow_cls, ctx, parameters),
    )


def _param_refs(
    metadata: Any, run: Any, flow_cls: type[FlowSpec], ctx: WorkerContext, values: dict[str, Any]
) -> dict[str, Any]:
    """The run's parameters as refs: those its start task stored, else stored anew."""
    from stepwell.runtime._params import StoredValue
    from stepwell.store import save_artifacts

    declared = flow_cls._sw_parameters()
    done = [t for t in metadata.list_tasks(run.flow_name, run.run_id) if t.status == "succeeded"]
    if done:  # every task carries the parameters; the first one (start) is enough
        first = min(done, key=launch_order)
        records = metadata.list_artifacts(run.flow_name, run.run_id, first.step_name, first.task_id)
        if all(name in records for name in declared):
            return refs_of({name: records[name] for name in declared})
    stored = {k: v.ref for k, v in values.items() if isinstance(v, StoredValue)}
    fresh = {k: v for k, v in values.items() if k not in stored}
    return {**save_artifacts(ctx.store, fresh), **stored}


# -- --artifacts-module -----------------------------------------------------------------


def _load_overrides(module: str | None) -> dict[str, Any]:
    """``ARTIFACTS`` of a module given as a file path or a dotted name."""
    if module is None:
        return {}
    path = Path(module)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise ConfigError(f"--artifacts-module {module!r}: no such file.")
        loader_spec = importlib.util.spec_from_file_location("_stepwell_spin_artifacts", path)
        if loader_spec is None or loader_spec.loader is None:
            raise ConfigError(f"--artifacts-module {module!r}: cannot be imported.")
        loaded = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(loaded)
    else:
        loaded = importlib.import_module(module)
    artifacts = getattr(loaded, "ARTIFACTS", None)
    if not isinstance(artifacts, dict) or not all(isinstance(k, str) for k in artifacts):
        raise ConfigError(
            f"--artifacts-module {module!r} must define ARTIFACTS, a dict of artifact name -> "
            "value, e.g. ARTIFACTS = {'alpha': 0.5}."
        )
    return artifacts


def _with_overrides(
    spec: TaskSpec, node: Any, ctx: WorkerContext, overrides: dict[str, Any]
) -> TaskSpec:
    """The task's inputs with some artifacts replaced (a join sees them on ``self``)."""
    from dataclasses import replace

    from stepwell.store import save_artifacts

    refs = save_artifacts(ctx.store, overrides)
    if node.is_join:
        return replace(spec, param_refs={**spec.param_refs, **refs})
    return replace(spec, parent_refs={**spec.parent_refs, **refs})


# -- --persist -------------------------------------------------------------------------


class _SpinRecorder:
    """Records the spun task as a one-task run in the spin store."""

    def __init__(self, request: SpinRequest, origin: Any, spec: TaskSpec, user: str) -> None:
        self.home = spin_home(request.spin_root)
        self.origin = origin
        self.user = user
        self.spec = spec
        self.run_id: str | None = None

    def start(self) -> TaskSpec:
        from dataclasses import replace

        self.home.mkdir(parents=True, exist_ok=True)
        metadata = open_metadata("local", home=self.home)
        try:
            self.run_id = str(
                metadata.new_run(
                    self.spec.flow_name,
                    user=self.user,
                    tags=[],
                    system_tags=[f"user:{self.user}", "runtime:spin"],
                    parameters=dict(self.origin.parameters),
                    pid=os.getpid(),
                    host=platform.node(),
                    origin_run_id=self.origin.run_id,
                    code_key=self.origin.code_key,
                    datastore=self.origin.datastore,
                )
            )
            spec = replace(self.spec, run_id=self.run_id)
            metadata.register_task(
                TaskLaunch(
                    flow_name=spec.flow_name,
                    run_id=self.run_id,
                    step_name=spec.step_name,
                    task_id=spec.task_id,
                    parent_task_ids=spec.input_task_ids,
                    foreach_stack=spec.frames_json,
                    index=spec.foreach_index,
                    started_at=time.time(),
                )
            )
        finally:
            metadata.close()
        return spec

    def finish(self, spec: TaskSpec, result: TaskResult) -> str:
        from stepwell.runtime._run import _outcome

        metadata = open_metadata("local", home=self.home)
        try:
            metadata.record_task(_outcome(spec, result))
            status = "succeeded" if result.ok else "failed"
            metadata.finish_run(spec.flow_name, spec.run_id, status, error=result.exception)
        finally:
            metadata.close()
        return spec.pathspec
