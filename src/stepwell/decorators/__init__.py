"""Step and flow decorators, one small module each, with typed attributes.

Rules: a decorator here only declares its attributes and validates them
(ranges, combinations) when the flow class is defined; what it *does* lives
in the runtime, which looks decorators up by ``NAME``. ``DECORATORS`` maps
every name to its class so ``--with NAME:k=v`` can attach one by name.
"""

from __future__ import annotations

from stepwell.decorators._flow_level import (
    CondaBaseDecorator,
    ProjectDecorator,
    PypiBaseDecorator,
    ScheduleDecorator,
    TriggerDecorator,
    TriggerOnFinishDecorator,
)
from stepwell.decorators._step_level import (
    BatchDecorator,
    CacheDecorator,
    CardDecorator,
    CatchDecorator,
    CondaDecorator,
    EnvironmentDecorator,
    KubernetesDecorator,
    ParallelDecorator,
    PypiDecorator,
    ResourcesDecorator,
    RetryDecorator,
    SecretsDecorator,
    TimeoutDecorator,
)
from stepwell.flow import Decorator, make_decorator

retry = make_decorator(RetryDecorator)
catch = make_decorator(CatchDecorator)
timeout = make_decorator(TimeoutDecorator)
resources = make_decorator(ResourcesDecorator)
environment = make_decorator(EnvironmentDecorator)
card = make_decorator(CardDecorator)
parallel = make_decorator(ParallelDecorator)
pypi = make_decorator(PypiDecorator)
secrets = make_decorator(SecretsDecorator)
project = make_decorator(ProjectDecorator)
schedule = make_decorator(ScheduleDecorator)
trigger = make_decorator(TriggerDecorator)
trigger_on_finish = make_decorator(TriggerOnFinishDecorator)
pypi_base = make_decorator(PypiBaseDecorator)
conda = make_decorator(CondaDecorator)
conda_base = make_decorator(CondaBaseDecorator)
kubernetes = make_decorator(KubernetesDecorator)
batch = make_decorator(BatchDecorator)
cache = make_decorator(CacheDecorator)

DECORATORS: dict[str, type[Decorator]] = {
    cls.NAME: cls
    for cls in (
        RetryDecorator,
        CatchDecorator,
        TimeoutDecorator,
        ResourcesDecorator,
        EnvironmentDecorator,
        CardDecorator,
        ParallelDecorator,
        PypiDecorator,
        SecretsDecorator,
        ProjectDecorator,
        ScheduleDecorator,
        TriggerDecorator,
        TriggerOnFinishDecorator,
        PypiBaseDecorator,
        CondaDecorator,
        CondaBaseDecorator,
        KubernetesDecorator,
        BatchDecorator,
        CacheDecorator,
    )
}

__all__ = [
    "DECORATORS",
    "batch",
    "cache",
    "card",
    "catch",
    "conda",
    "conda_base",
    "environment",
    "kubernetes",
    "parallel",
    "project",
    "pypi",
    "pypi_base",
    "resources",
    "retry",
    "schedule",
    "secrets",
    "timeout",
    "trigger",
    "trigger_on_finish",
]
