"""What the run loop takes from step decorators: retries, catch, time limits, resources.

The decorators only record attributes; here they become plain policies the
scheduler and the run loop apply. Machine capacity is read once per run; a
request larger than the machine is capped to it with a warning (or refused
before the run starts when strict).
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from stepwell.exceptions import ConfigError
from stepwell.runtime._scheduler import RetryPolicy


def failure_policies(graph: Iterable[Any]) -> dict[str, RetryPolicy]:
    """@retry and @catch of each step that has either."""
    policies = {}
    for node in graph:
        retry, catch = node.decorator("retry"), node.decorator("catch")
        if retry is None and catch is None:
            continue
        policies[node.name] = RetryPolicy(
            times=retry.times if retry else 0,
            # Locally only an explicit minutes_between_retries is waited (never the default).
            delay_seconds=retry.local_delay_seconds if retry else 0.0,
            catch=catch is not None,
        )
    return policies


def time_limits(graph: Iterable[Any]) -> dict[str, tuple[float, str]]:
    """Step -> (seconds, how the limit was written) for each step with @timeout."""
    limits = {}
    for node in graph:
        timeout = node.decorator("timeout")
        if timeout is not None:
            written = ", ".join(
                f"{unit}={getattr(timeout, unit):g}"
                for unit in ("hours", "minutes", "seconds")
                if getattr(timeout, unit)
            )
            limits[node.name] = (timeout.total_seconds, f"@timeout({written})")
    return limits


@dataclass(frozen=True)
class Capacity:
    """What this machine offers tasks: CPUs, memory (MB) and GPUs."""

    cpus: float
    memory_mb: int
    gpus: int

    @classmethod
    def of_this_machine(cls) -> Capacity:
        try:
            pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            memory_mb = pages // (1024 * 1024)
        except (ValueError, OSError, AttributeError):
            memory_mb = 1 << 40  # unknown: do not limit
        gpus = len(glob.glob("/dev/nvidia[0-9]*"))
        return cls(float(os.cpu_count() or 1), memory_mb, gpus)

    @classmethod
    def unlimited(cls) -> Capacity:
        """No local limit: a cluster places tasks by their resources itself."""
        return cls(float("inf"), 1 << 62, 1 << 30)


def requested_resources(node: Any) -> dict[str, float] | None:
    """cpu, memory (MB) and gpu a step asks for: @resources, @kubernetes and @batch merged.

    Where several give the same resource the largest wins, as in Metaflow;
    None when the step has none of them.
    """
    found = False
    wanted: dict[str, float] = {}
    resources = node.decorator("resources")
    if resources is not None:
        found = True
        wanted = {"cpu": float(resources.cpu), "memory": float(resources.memory)}
        if resources.gpu:
            wanted["gpu"] = float(resources.gpu)
    for name in COMPUTE_DECORATORS:
        deco = node.decorator(name)
        if deco is None:
            continue
        found = True
        for key, value in deco.requested().items():
            wanted[key] = max(wanted.get(key, 0.0), value)
    if not found:
        return None
    wanted.setdefault("cpu", 1.0)
    wanted.setdefault("memory", 4096.0)
    return wanted


#: Step decorators that send a task elsewhere; a local run uses only their resources.
COMPUTE_DECORATORS = ("kubernetes", "batch")


class Admission:
    """Starts a task only while the CPUs and memory its @resources ask for are free.

    Steps without @resources (or @kubernetes/@batch, whose cpu, memory and gpu
    count the same) ask for nothing (only --max-workers limits them). A
    request larger than the machine is capped to the machine, with a warning
    (Metaflow's local runtime runs such a step too); ``strict`` refuses it
    instead. A task that asks for more than is free waits; one running alone
    always fits, so a large request cannot wait forever.
    """

    def __init__(self, graph: Iterable[Any], capacity: Capacity, strict: bool = False) -> None:
        self.capacity = capacity
        self.strict = strict
        self._needs: dict[str, tuple[float, int]] = {}
        for node in graph:
            wanted = requested_resources(node)
            if wanted is not None:
                cpu = min(wanted["cpu"], capacity.cpus)
                memory = min(int(wanted["memory"]), capacity.memory_mb)
                self._needs[node.name] = (cpu, memory)
        self._cpu = 0.0
        self._memory = 0

    def check(self, graph: Iterable[Any], out: TextIO | None = None) -> list[str]:
        """Warn once (to ``out``, stderr by default) about requests the machine cannot meet.

        Returns the lines printed. Under ``strict`` such a request stops the run
        before it starts. A step on @kubernetes/@batch gets a one-line note that
        it runs locally.
        """
        lines = []
        for node in graph:
            wanted = requested_resources(node)
            if wanted is None:
                continue
            problems = self._beyond_machine(wanted)
            where = f"{node.file}:{node.line}"
            if problems and self.strict:
                raise ConfigError(
                    f"Step '{node.name}' asks for {' and '.join(problems)}, more than this "
                    "machine can give, so it could never start. Lower its @resources, or run "
                    "it where there is room.",
                    location=where,
                )
            if problems:
                lines.append(
                    f"Note: step '{node.name}' asks for {' and '.join(problems)}; "
                    "this local run caps it to the machine."
                )
            remote = [name for name in COMPUTE_DECORATORS if node.decorator(name) is not None]
            if remote:
                lines.append(
                    f"Note: step '{node.name}' has @{remote[0]}; this local run runs it "
                    "here, using its cpu, memory and gpu as @resources."
                )
        stream = out if out is not None else sys.stderr
        for line in lines:
            print(line, file=stream)
        return lines

    def _beyond_machine(self, wanted: dict[str, float]) -> list[str]:
        cap = self.capacity
        problems = []
        if wanted["cpu"] > cap.cpus:
            problems.append(f"cpu={wanted['cpu']:g} (this machine has {cap.cpus:g})")
        if wanted["memory"] > cap.memory_mb:
            problems.append(f"memory={wanted['memory']:g} MB (this machine has {cap.memory_mb})")
        if wanted.get("gpu", 0) > cap.gpus:
            problems.append(f"gpu={wanted['gpu']:g} (this machine has {cap.gpus})")
        return problems

    def fits(self, step: str, running: int) -> bool:
        cpu, memory = self._needs.get(step, (0.0, 0))
        if running == 0:
            return True
        return (
            self._cpu + cpu <= self.capacity.cpus
            and self._memory + memory <= self.capacity.memory_mb
        )

    def take(self, step: str) -> None:
        cpu, memory = self._needs.get(step, (0.0, 0))
        self._cpu += cpu
        self._memory += memory

    def release(self, step: str) -> None:
        cpu, memory = self._needs.get(step, (0.0, 0))
        self._cpu -= cpu
        self._memory -= memory
