"""What the run loop takes from step decorators: retries, catch, time limits, resources.

The decorators only record attributes; here they become plain policies the
scheduler and the run loop apply. Machine capacity is read once per run, and a
request no task could ever get is refused before the run starts.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
            delay_seconds=60.0 * retry.minutes_between_retries if retry else 0.0,
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


class Admission:
    """Starts a task only while the CPUs and memory its @resources ask for are free.

    Steps without @resources ask for nothing (only --max-workers limits them).
    A task that asks for more than is free waits; one running alone always
    fits, so a large request cannot wait forever.
    """

    def __init__(self, graph: Iterable[Any], capacity: Capacity) -> None:
        self.capacity = capacity
        self._needs: dict[str, tuple[float, int]] = {}
        for node in graph:
            resources = node.decorator("resources")
            if resources is not None:
                self._needs[node.name] = (float(resources.cpu), int(resources.memory))
        self._cpu = 0.0
        self._memory = 0

    def check(self, graph: Iterable[Any]) -> None:
        """Refuse, before the run, a step asking for more than the machine has."""
        cap = self.capacity
        for node in graph:
            resources = node.decorator("resources")
            if resources is None:
                continue
            problems = []
            if resources.cpu > cap.cpus:
                problems.append(f"cpu={resources.cpu:g} (this machine has {cap.cpus:g})")
            if resources.memory > cap.memory_mb:
                problems.append(f"memory={resources.memory} MB (this machine has {cap.memory_mb})")
            if resources.gpu and resources.gpu > cap.gpus:
                problems.append(f"gpu={resources.gpu} (this machine has {cap.gpus})")
            if problems:
                raise ConfigError(
                    f"Step '{node.name}' asks for {' and '.join(problems)}, more than this "
                    "machine can give, so it could never start. Lower its @resources, or run "
                    "it where there is room.",
                    location=f"{node.file}:{node.line}",
                )

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
