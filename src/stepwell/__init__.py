"""stepwell: the full stack for data science, from plain Python.

Write a flow as a class of steps; run it, version every result, scale it out
and deploy it. The public API is this module's ``__all__``; names are
imported lazily on first use, so ``import stepwell`` stays fast and has no
side effects.

Example:
    >>> from stepwell import FlowSpec, step
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stepwell._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "FlowSpec": "stepwell.flow",
    "step": "stepwell.flow",
    "Parameter": "stepwell.flow",
    "JSONType": "stepwell.flow",
    "IncludeFile": "stepwell.flow",
    "Config": "stepwell.flow",
    "current": "stepwell.flow",
    "retry": "stepwell.decorators",
    "catch": "stepwell.decorators",
    "timeout": "stepwell.decorators",
    "resources": "stepwell.decorators",
    "environment": "stepwell.decorators",
    "card": "stepwell.decorators",
    "parallel": "stepwell.decorators",
    "pypi": "stepwell.decorators",
    "pypi_base": "stepwell.decorators",
    "secrets": "stepwell.decorators",
    "project": "stepwell.decorators",
    "schedule": "stepwell.decorators",
    "trigger": "stepwell.decorators",
    "trigger_on_finish": "stepwell.decorators",
    "StepwellError": "stepwell.exceptions",
    "Metaflow": "stepwell.client",
    "Flow": "stepwell.client",
    "Run": "stepwell.client",
    "Step": "stepwell.client",
    "Task": "stepwell.client",
    "DataArtifact": "stepwell.client",
    "namespace": "stepwell.client",
    "get_namespace": "stepwell.client",
    "default_namespace": "stepwell.client",
    "compare_runs": "stepwell.client",
    "CaughtException": "stepwell.exceptions",
    "user_step_decorator": "stepwell.flow",
    "Runner": "stepwell.runner",
    "get_cards": "stepwell.cards",
    "ExecutingRun": "stepwell.runner",
    "S3": "stepwell.data",
    "S3Object": "stepwell.data",
    "S3GetObject": "stepwell.data",
    "S3PutObject": "stepwell.data",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from stepwell.cards import get_cards
    from stepwell.client import (
        DataArtifact,
        Flow,
        Metaflow,
        Run,
        Step,
        Task,
        compare_runs,
        default_namespace,
        get_namespace,
        namespace,
    )
    from stepwell.data import S3, S3GetObject, S3Object, S3PutObject
    from stepwell.decorators import (
        card,
        catch,
        environment,
        parallel,
        project,
        pypi,
        pypi_base,
        resources,
        retry,
        schedule,
        secrets,
        timeout,
        trigger,
        trigger_on_finish,
    )
    from stepwell.exceptions import CaughtException, StepwellError
    from stepwell.flow import (
        Config,
        FlowSpec,
        IncludeFile,
        JSONType,
        Parameter,
        current,
        step,
        user_step_decorator,
    )
    from stepwell.runner import ExecutingRun, Runner


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stepwell' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
