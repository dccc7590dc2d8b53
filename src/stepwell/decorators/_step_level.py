"""Step decorators: attributes and their validation (behaviour lives in the runtime)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stepwell.flow import StepDecorator

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(repr=False)
class RetryDecorator(StepDecorator):
    """Retry a failed task ``times`` more times, waiting ``minutes_between_retries``."""

    NAME = "retry"
    #: Metaflow's wait when none is written; deployed runs use it, local runs do not wait.
    DEFAULT_MINUTES: ClassVar[float] = 2
    times: int = 3
    minutes_between_retries: float | None = None

    def validate(self) -> None:
        if not 0 <= self.times <= 100:
            self._fail(f"@retry(times={self.times}): 'times' must be between 0 and 100.")
        if self.minutes_between_retries is not None and self.minutes_between_retries < 0:
            self._fail(
                f"@retry(minutes_between_retries={self.minutes_between_retries}): "
                "must be 0 or more."
            )

    def __repr__(self) -> str:
        wait = self.minutes_between_retries
        extra = "" if wait is None else f", minutes_between_retries={wait!r}"
        return f"@retry(times={self.times!r}{extra})"

    @property
    def local_delay_seconds(self) -> float:
        """The wait before a retry in a local run: only an explicit ``minutes_between_retries``."""
        return 60.0 * (self.minutes_between_retries or 0)

    @property
    def deployed_delay_minutes(self) -> float:
        """The wait a production orchestrator applies: Metaflow's default of 2 minutes."""
        if self.minutes_between_retries is None:
            return self.DEFAULT_MINUTES
        return self.minutes_between_retries


@dataclass(repr=False)
class CatchDecorator(StepDecorator):
    """After the last failed attempt, store the exception in ``var`` and go on."""

    NAME = "catch"
    var: str | None = None
    print_exception: bool = True

    def validate(self) -> None:
        if self.var is not None and not self.var.isidentifier():
            self._fail(f"@catch(var={self.var!r}): 'var' must be a valid Python identifier.")


@dataclass(repr=False)
class TimeoutDecorator(StepDecorator):
    """Fail a task that runs longer than the sum of ``seconds``, ``minutes``, ``hours``."""

    NAME = "timeout"
    seconds: float = 0
    minutes: float = 0
    hours: float = 0

    def validate(self) -> None:
        for attr in ("seconds", "minutes", "hours"):
            if getattr(self, attr) < 0:
                self._fail(f"@timeout({attr}={getattr(self, attr)}): must be 0 or more.")
        if self.total_seconds <= 0:
            self._fail("@timeout needs a positive limit, e.g. @timeout(minutes=10).")

    @property
    def total_seconds(self) -> float:
        return self.seconds + 60 * self.minutes + 3600 * self.hours


@dataclass(repr=False)
class ResourcesDecorator(StepDecorator):
    """CPU, GPU, memory (MB) and disk (MB) a task needs."""

    NAME = "resources"
    cpu: float = 1
    gpu: int | None = None
    memory: int = 4096
    disk: int | None = None
    shared_memory: int | None = None

    def validate(self) -> None:
        if self.cpu <= 0:
            self._fail(f"@resources(cpu={self.cpu}): 'cpu' must be positive.")
        for attr in ("gpu", "memory", "disk", "shared_memory"):
            value = getattr(self, attr)
            if value is not None and value < 0:
                self._fail(f"@resources({attr}={value}): '{attr}' must be 0 or more.")


@dataclass(repr=False)
class EnvironmentDecorator(StepDecorator):
    """Environment variables set for this step's tasks only."""

    NAME = "environment"
    vars: dict = field(default_factory=dict)

    def validate(self) -> None:
        for key, value in self.vars.items():
            if not isinstance(key, str) or not _ENV_NAME.match(key):
                self._fail(f"@environment(vars=...): {key!r} is not a valid variable name.")
            if not isinstance(value, str):
                self._fail(
                    f"@environment(vars=...): the value of {key!r} must be a str, "
                    f"got {type(value).__name__}."
                )


@dataclass(repr=False)
class CardDecorator(StepDecorator):
    """A visual report rendered when the task ends."""

    NAME = "card"
    allow_multiple = True
    type: str = "default"
    id: str | None = None
    options: dict = field(default_factory=dict)
    timeout: float = 45
    refresh_interval: float = 5
    save_errors: bool = True

    def validate(self) -> None:
        if self.id is not None and not re.match(r"^[A-Za-z0-9_]+$", self.id):
            self._fail(f"@card(id={self.id!r}): use letters, digits and '_' only.")
        if self.timeout <= 0:
            self._fail(f"@card(timeout={self.timeout}): must be positive.")


@dataclass(repr=False)
class ParallelDecorator(StepDecorator):
    """The step runs as a gang of ``num_parallel`` tasks started together."""

    NAME = "parallel"


@dataclass(repr=False)
class PypiDecorator(StepDecorator):
    """Run this step in its own environment with these PyPI packages."""

    NAME = "pypi"
    packages: dict = field(default_factory=dict)
    python: str | None = None
    disabled: bool = False


@dataclass(repr=False)
class SecretsDecorator(StepDecorator):
    """Resolve secrets into environment variables when the task starts."""

    NAME = "secrets"
    sources: list = field(default_factory=list)
    role: str | None = None

    def validate(self) -> None:
        for source in self.sources:
            if not isinstance(source, (str, dict)):
                self._fail(
                    f"@secrets(sources=...): each source must be a str or a dict, got {source!r}."
                )


@dataclass(repr=False)
class CondaDecorator(StepDecorator):
    """Run this step in its own environment with these Conda packages (recorded)."""

    NAME = "conda"
    packages: dict = field(default_factory=dict)
    libraries: dict = field(default_factory=dict)
    python: str | None = None
    disabled: bool | None = None


def resource_number(value: Any) -> float | None:
    """A resource amount written as Metaflow accepts it: 4, 4.5 or "4" (None: not given or
    not a number). The compilers read @resources / @kubernetes amounts with it too."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _ComputeDecorator(StepDecorator):
    """@kubernetes / @batch: on a local run, their cpu, memory and gpu act as @resources."""

    def validate(self) -> None:
        for attr in ("cpu", "memory", "gpu", "disk"):
            value = getattr(self, attr, None)
            if value is None:
                continue
            number = resource_number(value)
            if number is None or number < 0:
                self._fail(
                    f"@{self.NAME}({attr}={value!r}): '{attr}' must be a number of 0 or more "
                    f"(e.g. @{self.NAME}({attr}=4))."
                )

    def requested(self) -> dict[str, float]:
        """cpu, memory (MB) and gpu this decorator asks for, where given."""
        wanted = {}
        for attr in ("cpu", "memory", "gpu"):
            number = resource_number(getattr(self, attr, None))
            if number is not None:
                wanted[attr] = number
        return wanted


@dataclass(repr=False)
class KubernetesDecorator(_ComputeDecorator):
    """Run the step in a Kubernetes pod; locally its cpu/memory/gpu act as @resources."""

    NAME = "kubernetes"
    cpu: Any = 1
    memory: Any = 4096
    disk: Any = 10240
    image: str | None = None
    image_pull_policy: str | None = None
    image_pull_secrets: Any = None
    service_account: str | None = None
    secrets: Any = None
    node_selector: Any = None
    namespace: str | None = None
    gpu: Any = None
    gpu_vendor: str | None = None
    tolerations: Any = None
    labels: Any = None
    annotations: Any = None
    use_tmpfs: Any = None
    tmpfs_tempdir: bool = True
    tmpfs_size: Any = None
    tmpfs_path: str = "/metaflow_temp"
    persistent_volume_claims: Any = None
    shared_memory: Any = None
    port: Any = None
    compute_pool: str | None = None
    executable: str | None = None
    hostname_resolution_timeout: Any = 600
    qos: str = "burstable"
    extended_resources: Any = None
    security_context: Any = None


@dataclass(repr=False)
class BatchDecorator(_ComputeDecorator):
    """Run the step on AWS Batch; locally its cpu/memory/gpu act as @resources."""

    NAME = "batch"
    cpu: Any = None
    gpu: Any = None
    memory: Any = None
    image: str | None = None
    queue: str | None = None
    iam_role: str | None = None
    execution_role: str | None = None
    shared_memory: Any = None
    max_swap: Any = None
    swappiness: Any = None
    inferentia: Any = None
    trainium: Any = None
    efa: Any = None
    host_volumes: Any = None
    efs_volumes: Any = None
    use_tmpfs: bool = False
    aws_batch_tags: Any = None
    tmpfs_tempdir: bool = True
    tmpfs_size: Any = None
    tmpfs_path: str = "/metaflow_temp"
    ephemeral_storage: Any = None
    log_driver: str | None = None
    log_options: Any = None
    executable: str | None = None
    privileged: bool = False


@dataclass(repr=False)
class CacheDecorator(StepDecorator):
    """Reuse an earlier successful task of this step when its code and inputs are the same.

    The task is skipped, and its artifacts are the earlier task's (by reference),
    when the step's code (its source and the flow-package code it names), its
    input artifacts and the run's parameters hash to the same key. An entry
    older than ``days + hours + minutes + seconds`` (all 0: never) is not used;
    ``key`` adds text of the user's own to the key (e.g. a data version).
    """

    NAME = "cache"
    seconds: float = 0
    minutes: float = 0
    hours: float = 0
    days: float = 0
    key: str | None = None

    def validate(self) -> None:
        for attr in ("seconds", "minutes", "hours", "days"):
            if getattr(self, attr) < 0:
                self._fail(f"@cache({attr}={getattr(self, attr)}): must be 0 or more.")

    @property
    def expire_seconds(self) -> float | None:
        """How old a reused task may be, in seconds; None: no limit."""
        total = self.seconds + 60 * self.minutes + 3600 * self.hours + 86400 * self.days
        return total or None
