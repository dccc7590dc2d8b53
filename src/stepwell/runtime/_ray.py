"""The ``ray`` executor: every task attempt is a Ray task on a Ray cluster.

The run itself does not change: the same pure scheduler, the same event loop
recording every result in the metadata store (workers never touch it), the
same pipes per task. What differs is where a task runs:

- ``start`` connects to the cluster (``--ray-address`` / ``RAY_ADDRESS``; with
  neither, a local Ray is started for the run and stopped after it) and checks
  every node once: the same Python and stepwell versions, the run's datastore
  reachable (a local datastore only when every node sees that folder), and
  each step's ``@resources`` satisfiable by some node (else the run stops before
  it starts, naming the step and its file:line);
- ``launch`` submits :func:`stepwell.runtime._rayworker.run_attempt` with the
  step's resources as Ray's (``num_cpus``, ``num_gpus``, ``memory``; a
  ``@parallel`` gang shares a placement group) and a thread that writes what
  the generator task yields into the task's pipes; when it ends, the loop is
  woken through a pipe and sees an exit, as for a local process;
- a worker or node lost mid-task is a failed attempt (``@retry`` and
  ``@catch`` apply); ``terminate`` (``@timeout``, Ctrl-C) cancels the Ray
  task, and the worker kills the task's processes.

Ray retries nothing itself (``max_retries=0``): retrying is the run's.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import platform
import queue
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from stepwell.exceptions import ConfigError, ExecutorError
from stepwell.runtime._executor import Executor, ExecutorContext, TaskHandle, new_pipes
from stepwell.runtime._policies import requested_resources
from stepwell.runtime._spec import TaskResult, TaskSpec

PROBE_SECONDS = 120.0  # how long the per-node check may wait for a worker to start
CONNECT_SECONDS = 5.0  # a TCP check of the address before Ray's own (slow) retries


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "--executor ray needs Ray: pip install 'stepwell[ray]' (here and on every node "
            "of the cluster)."
        ) from None
    return ray


class RayExecutor(Executor):
    """Tasks are Ray tasks; the run loop still reads their output and records them."""

    name = "ray"
    places_by_resources = True
    handles_environments = True  # each node rebuilds a step's environment from its lock

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self._ray: Any = None
        self._ctx: ExecutorContext | None = None
        self._cluster_cpus = 0.0
        self._remote: Any = None
        self._share: Any = None  # ObjectRef of the RunShare, put once the run id is known
        self._share_run = ""
        self._wake_r = self._wake_w = -1
        self._exits: queue.SimpleQueue[tuple[TaskHandle, int]] = queue.SimpleQueue()
        self._tasks: dict[tuple[str, int], tuple[Any, threading.Thread]] = {}
        self._groups: dict[tuple[str, int], list[Any]] = {}  # gang -> [placement group, members]

    # -- start: connect, check the cluster ---------------------------------------------
    def start(self, ctx: ExecutorContext) -> None:
        if not ctx.info.flow_file:
            raise ExecutorError("The Ray executor needs the flow's file (its code package).")
        self._ctx = ctx
        self._ray = ray = import_ray()
        say = ctx.extra.get("say", lambda text: None)
        say(
            f"Connecting to the Ray cluster at {self.address}."
            if self.address
            else "Starting a local Ray for this run (--ray-address or RAY_ADDRESS: a cluster)."
        )
        self._connect()
        try:
            nodes = [n for n in ray.nodes() if n.get("Alive")]
            self._check_nodes(ctx, nodes)
            self._check_resources(ctx, nodes)
        except BaseException:
            self._disconnect()
            raise
        self._cluster_cpus = sum(float(n.get("Resources", {}).get("CPU", 0)) for n in nodes)
        say(f"Ray: {len(nodes)} node(s), {self._cluster_cpus:g} CPUs; tasks run there.")
        from stepwell.runtime._rayworker import run_attempt

        self._remote = ray.remote(max_retries=0, retry_exceptions=False)(run_attempt)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        ctx.add_reader(self._wake_r, self._drain)

    def _connect(self) -> None:
        ray = self._ray
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,  # task output comes through stepwell's own logs
            "configure_logging": False,
            "namespace": "stepwell",
        }
        try:
            if self.address:
                _check_reachable(self.address)
                ray.init(address=self.address, **options)
            else:  # a Ray of its own for this run, on this machine, stopped after it
                ray.init(address="local", _node_ip_address="127.0.0.1", **options)
        except ExecutorError:
            raise
        except Exception as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            text = str(exc).strip().splitlines()
            raise ExecutorError(
                f"Could not connect to {where}: {type(exc).__name__}: "
                f"{text[0] if text else ''}\n  "
                + (
                    "Ray and Python must be the same versions here and on the cluster."
                    if "version mismatch" in str(exc).lower()
                    else "Check --ray-address / RAY_ADDRESS and that `ray start --head` runs there."
                    if self.address
                    else "Ray could not start here; see its message above (RAY_TMPDIR sets "
                    "where its files go)."
                )
            ) from None
        finally:
            for sig, handler in handlers.items():  # ray.init replaces them; the run's stay
                if handler is not None:
                    signal.signal(sig, handler)

    def _check_nodes(self, ctx: ExecutorContext, nodes: list[dict[str, Any]]) -> None:
        """Every node runs the same stepwell and Python and sees the datastore."""
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from stepwell._version import __version__
        from stepwell.runtime._rayworker import probe
        from stepwell.store import open_storage

        datastore = ctx.info.datastore_url
        storage = open_storage(datastore, endpoint_url=ctx.info.s3_endpoint_url)
        marker: Path | None = None
        if not storage.is_remote:
            marker = Path(datastore) / f".ray-check-{uuid.uuid4().hex}"
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("stepwell: the Ray executor checks every node sees this folder\n")
        remote = ray.remote(num_cpus=0, max_retries=0)(probe)
        try:
            refs = {
                _node_name(n): remote.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
                ).remote(
                    str(marker) if marker else None,
                    datastore if storage.is_remote else "",
                    ctx.info.s3_endpoint_url,
                )
                for n in nodes
            }
            found = {}
            for address, ref in refs.items():
                try:
                    found[address] = ray.get(ref, timeout=PROBE_SECONDS)
                except Exception as exc:
                    raise ExecutorError(
                        f"Ray node {address} could not run stepwell: {_first_line(exc)}\n  "
                        f"Install stepwell {__version__} (with the flow's dependencies) in "
                        "the Python the Ray workers use, on every node."
                    ) from None
        finally:
            if marker is not None:
                with contextlib.suppress(OSError):
                    marker.unlink()
        here = platform.python_version()
        for address, seen in found.items():
            if seen["stepwell"] != __version__:
                raise ExecutorError(
                    f"Ray node {address} runs stepwell {seen['stepwell']}, this machine "
                    f"{__version__}: install the same stepwell version on every node."
                )
            if seen["python"].split(".")[:2] != here.split(".")[:2]:
                raise ExecutorError(
                    f"Ray node {address} runs Python {seen['python']}, this machine {here}: "
                    "the driver and the workers need the same Python version."
                )
            if seen.get("datastore_error"):
                raise ExecutorError(
                    f"Ray node {address} cannot use the datastore {datastore}: "
                    f"{seen['datastore_error']}\n  Workers use their own credentials (AWS "
                    "variables, config files or a role on each node) and the run's endpoint."
                )
            if not seen["sees_marker"]:
                raise ExecutorError(
                    f"Ray node {address} does not see the local datastore {datastore}: on a "
                    "cluster of several machines use the S3 datastore (--datastore s3 "
                    "--datastore-root s3://BUCKET/PREFIX), or a folder every node mounts."
                )

    def _check_resources(self, ctx: ExecutorContext, nodes: list[dict[str, Any]]) -> None:
        """A step whose @resources no node can give stops the run before it starts."""
        sizes = [
            (
                float(n.get("Resources", {}).get("CPU", 0)),
                float(n.get("Resources", {}).get("GPU", 0)),
                float(n.get("Resources", {}).get("memory", 0)) / 2**20,
            )
            for n in nodes
        ]
        for node in ctx.worker.graph:
            wanted = requested_resources(node)
            if wanted is None:
                continue
            cpu, gpu, memory = wanted["cpu"], wanted.get("gpu", 0.0), wanted["memory"]
            if any(c >= cpu and g >= gpu and m >= memory for c, g, m in sizes):
                continue
            largest = max(sizes, default=(0.0, 0.0, 0.0))
            asked = f"cpu={cpu:g}, memory={memory:g} MB" + (f", gpu={gpu:g}" if gpu else "")
            raise ConfigError(
                f"Step '{node.name}' asks for {asked}, and no node of the Ray cluster has "
                f"that much (the largest: cpu={largest[0]:g}, memory={largest[2]:.0f} MB, "
                f"gpu={largest[1]:g}), so it could never start. Lower its @resources, or "
                "add a node that fits.",
                location=f"{node.file}:{node.line}",
            )

    def default_max_workers(self) -> int | None:
        # Enough in flight that the cluster always has the next task queued (a thread each
        # on the driver, so bounded).
        return min(1024, max(16, int(2 * self._cluster_cpus)))

    # -- launch ---------------------------------------------------------------------------
    def launch(self, spec: TaskSpec) -> TaskHandle:
        assert self._ctx is not None
        share = self._run_share()
        node = self._ctx.worker.graph[spec.step_name]
        if node.is_join and spec.input_task_ids:
            spec = self._with_inputs(spec)
        options: dict[str, Any] = {"name": spec.pathspec}
        wanted = requested_resources(node)
        if wanted is not None:
            options["num_cpus"] = wanted["cpu"]
            options["memory"] = int(wanted["memory"] * 2**20)
            if wanted.get("gpu"):
                options["num_gpus"] = wanted["gpu"]
        gang = spec.frames[-1] if spec.frames and spec.frames[-1].kind == "parallel" else None
        if gang is not None:
            options["scheduling_strategy"] = self._gang_strategy(spec, gang, wanted)
        try:
            generator = self._remote.options(**options).remote(share, spec)
        except Exception as exc:
            raise ExecutorError(f"Ray did not accept task {spec.pathspec}: {exc}") from None
        (out_r, out_w), (err_r, err_w), (res_r, res_w) = new_pipes()
        handle = TaskHandle(spec, out_r, err_r, res_r, open_fds={out_r, err_r, res_r})
        thread = threading.Thread(
            target=self._follow,
            args=(handle, generator, (out_w, err_w, res_w)),
            name=f"ray:{spec.pathspec}",
            daemon=True,
        )
        self._tasks[spec.key] = (generator, thread)
        thread.start()
        return handle

    def _run_share(self) -> Any:
        """The run's share (RunInfo as workers see it, decorators), put in Ray once."""
        assert self._ctx is not None
        info = self._ctx.info
        if self._share is None or self._share_run != info.run_id:
            from dataclasses import replace

            from stepwell.runtime._rayworker import RunShare, work_dir

            if info.code_key is None:
                raise ExecutorError("The Ray executor needs the run's code package.")
            worker_info = replace(
                info,
                home=str(work_dir() / "home"),  # the node's own: caches, never the driver's
                datastore=info.datastore_url,
                metadata="local",  # workers never touch the metadata store
            )
            decorators = {n.name: n.decorators for n in self._ctx.worker.graph}
            try:
                pickle.dumps(decorators, protocol=5)
            except Exception as exc:
                raise ExecutorError(
                    "The Ray executor cannot send this flow's decorators to its workers "
                    f"({type(exc).__name__}: {exc}); define decorators at module level."
                ) from None
            share = RunShare(worker_info, decorators, Path(info.flow_file).name)
            self._share = self._ray.put(share)
            self._share_run = info.run_id
        return self._share

    def _with_inputs(self, spec: TaskSpec) -> TaskSpec:
        """A join's spec with its inputs' artifact refs (workers read no metadata)."""
        from dataclasses import replace

        from stepwell.runtime._refs import refs_of

        assert self._ctx is not None
        found = self._ctx.worker.metadata.artifacts_of_tasks(
            spec.flow_name, spec.run_id, spec.input_task_ids
        )
        refs = {task_id: refs_of(records) for task_id, records in found.items()}
        return replace(spec, extras={**spec.extras, "input_refs": refs})

    def _gang_strategy(self, spec: TaskSpec, gang: Any, wanted: dict[str, float] | None) -> Any:
        """The members of a @parallel gang start together, in one placement group."""
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        key = (gang.split_task, spec.attempt)
        group = self._groups.get(key)
        if group is None:
            bundle = {"CPU": (wanted or {}).get("cpu", 1.0)}
            if wanted and wanted.get("gpu"):
                bundle["GPU"] = wanted["gpu"]
            total = bundle["CPU"] * gang.width
            if total > self._cluster_cpus:
                raise ExecutorError(
                    f"Step '{spec.step_name}' starts a @parallel gang of {gang.width} tasks "
                    f"needing {total:g} CPUs together; the Ray cluster has "
                    f"{self._cluster_cpus:g}."
                )
            group = self._groups[key] = [placement_group([bundle] * gang.width), 0]
        group[1] += 1
        return PlacementGroupSchedulingStrategy(
            placement_group=group[0], placement_group_bundle_index=gang.index
        )

    # -- the bridge: a thread per running task ---------------------------------------------
    def _follow(self, handle: TaskHandle, generator: Any, fds: tuple[int, int, int]) -> None:
        ray = self._ray
        out_w, err_w, res_w = fds
        code = 1
        try:
            for ref in generator:
                item = ray.get(ref)
                _write(out_w, item[1])
                _write(err_w, item[2])
                if item[0] == "done":
                    _write(res_w, item[3])
                    code = item[4] if item[4] is not None else 1
        except ray.exceptions.TaskCancelledError:
            code = -signal.SIGKILL
        except ray.exceptions.RayError as exc:  # the worker or its node was lost, say
            _write(res_w, _lost(handle, exc))
        except BaseException as exc:  # never leave the run waiting
            _write(res_w, _lost(handle, exc))
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._exits.put((handle, code))
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"\0")

    def _drain(self) -> None:
        """In the loop: report the exits the bridge threads queued."""
        assert self._ctx is not None
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_r, 4096)
        while True:
            try:
                handle, code = self._exits.get_nowait()
            except queue.Empty:
                return
            self._tasks.pop(handle.spec.key, None)
            self._release_gang(handle.spec)
            self._ctx.on_exit(handle, code)

    def _release_gang(self, spec: TaskSpec) -> None:
        gang = spec.frames[-1] if spec.frames and spec.frames[-1].kind == "parallel" else None
        if gang is None:
            return
        key = (gang.split_task, spec.attempt)
        group = self._groups.get(key)
        if group is not None:
            group[1] -= 1
            if group[1] <= 0:
                del self._groups[key]
                with contextlib.suppress(Exception):
                    self._ray.util.remove_placement_group(group[0])

    # -- stop -----------------------------------------------------------------------------
    def terminate(self, handle: TaskHandle, sig: int = signal.SIGTERM) -> None:
        task = self._tasks.get(handle.spec.key)
        if task is not None:
            with contextlib.suppress(Exception):
                self._ray.cancel(task[0])  # the worker kills the task's processes

    def close(self) -> None:
        if self._ray is None:
            return
        for generator, _ in list(self._tasks.values()):  # none, unless the run is stopping
            with contextlib.suppress(Exception):
                self._ray.cancel(generator)
        deadline = time.monotonic() + 30
        for _, thread in list(self._tasks.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        for group, _ in self._groups.values():
            with contextlib.suppress(Exception):
                self._ray.util.remove_placement_group(group)
        self._groups.clear()
        if self._ctx is not None and self._wake_r >= 0:
            self._ctx.remove_reader(self._wake_r)
        self._disconnect()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = -1

    def _disconnect(self) -> None:
        with contextlib.suppress(Exception):
            self._ray.shutdown()  # a local Ray of this run stops with it
        self._ray = None


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lost(handle: TaskHandle, exc: BaseException) -> bytes:
    """The result of an attempt whose Ray task failed outside the step (a failed attempt)."""
    spec = handle.spec
    name = type(exc).__name__
    result = TaskResult(
        task_id=spec.task_id,
        attempt=spec.attempt,
        ok=False,
        exception_type="RayTaskLost",
        exception=f"The Ray task running this attempt failed ({name}): {_first_line(exc)}",
        started_at=handle.launched_at,
        finished_at=time.time(),
    )
    return pickle.dumps(result, protocol=5)


def _node_name(node: dict[str, Any]) -> str:
    """A node as messages name it: its address and the start of its id (unique)."""
    return f"{node.get('NodeManagerAddress', '?')} (node {str(node['NodeID'])[:8]})"


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _check_reachable(address: str) -> None:
    """host:port answers at all (Ray's own attempts take a minute to give up)."""
    if "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(
            f"The Ray address {address!r} is not host:port (nor ray://host:port): check "
            "--ray-address / RAY_ADDRESS."
        )
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        raise ExecutorError(
            f"The Ray cluster at {address} cannot be reached ({exc.strerror or exc}). "
            "Check --ray-address / RAY_ADDRESS, and that `ray start --head` runs there."
        ) from None
