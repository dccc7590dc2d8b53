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
import sys
import types
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
    "cache": "stepwell.decorators",
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
    "ExecutingTask": "stepwell.runner",
    "NBRunner": "stepwell.runner",
    "Deployer": "stepwell.runner",
    "publish_event": "stepwell.scheduler",
    "S3": "stepwell.data",
    "S3Object": "stepwell.data",
    "S3GetObject": "stepwell.data",
    "S3PutObject": "stepwell.data",
    # Metaflow's other public names, so a flow runs once its import changes
    "conda": "stepwell.decorators",
    "conda_base": "stepwell.decorators",
    "kubernetes": "stepwell.decorators",
    "batch": "stepwell.decorators",
    "FlowMutator": "stepwell.flow",
    "StepMutator": "stepwell.flow",
    "UserStepDecorator": "stepwell.flow",
    "USER_SKIP_STEP": "stepwell.flow",
    "config_expr": "stepwell.flow",
    "profile": "stepwell._profile",
    "get_metadata": "stepwell.client._provider",
    "metadata": "stepwell.client._provider",
    "default_metadata": "stepwell.client._provider",
    "inspect_spin": "stepwell.client._provider",
    "MetaflowException": "stepwell.exception",
    "MetaflowNotFound": "stepwell.exception",
    "MetaflowNamespaceMismatch": "stepwell.exception",
    "MetaflowInvalidPathspec": "stepwell.exception",
    "MetaflowInternalError": "stepwell.exception",
    "MetaflowTaggingError": "stepwell.exception",
    "MetaflowDataMissing": "stepwell.exception",
    "MetaflowUnknownUser": "stepwell.exception",
    "InvalidDecoratorAttribute": "stepwell.exception",
    "CommandException": "stepwell.exception",
    "ExternalCommandFailed": "stepwell.exception",
    "ParameterFieldFailed": "stepwell.exception",
    "ParameterFieldTypeMismatch": "stepwell.exception",
    "UnhandledInMergeArtifactsException": "stepwell.exception",
    "MissingInMergeArtifactsException": "stepwell.exception",
    "MetaflowExceptionWrapper": "stepwell.exception",
    "CardNotPresentException": "stepwell.exception",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from stepwell._profile import profile
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
    from stepwell.client._provider import (
        default_metadata,
        get_metadata,
        inspect_spin,
        metadata,
    )
    from stepwell.data import S3, S3GetObject, S3Object, S3PutObject
    from stepwell.decorators import (
        batch,
        cache,
        card,
        catch,
        conda,
        conda_base,
        environment,
        kubernetes,
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
    from stepwell.exception import (
        CardNotPresentException,
        CommandException,
        ExternalCommandFailed,
        InvalidDecoratorAttribute,
        MetaflowDataMissing,
        MetaflowException,
        MetaflowExceptionWrapper,
        MetaflowInternalError,
        MetaflowInvalidPathspec,
        MetaflowNamespaceMismatch,
        MetaflowNotFound,
        MetaflowTaggingError,
        MetaflowUnknownUser,
        MissingInMergeArtifactsException,
        ParameterFieldFailed,
        ParameterFieldTypeMismatch,
        UnhandledInMergeArtifactsException,
    )
    from stepwell.exceptions import CaughtException, StepwellError
    from stepwell.flow import (
        USER_SKIP_STEP,
        Config,
        FlowMutator,
        FlowSpec,
        IncludeFile,
        JSONType,
        Parameter,
        StepMutator,
        UserStepDecorator,
        config_expr,
        current,
        step,
        user_step_decorator,
    )
    from stepwell.runner import Deployer, ExecutingRun, ExecutingTask, NBRunner, Runner
    from stepwell.scheduler import publish_event


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stepwell' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """``stepwell.metadata`` is Metaflow's function ``metadata()``, not the subpackage.

    Importing the subpackage ``stepwell.metadata`` makes Python set it as an
    attribute of this package; the setter keeps it aside, so
    ``from stepwell import metadata`` gives the function whatever was imported
    before. Code reaches the subpackage with ``from stepwell.metadata import ...``.
    """

    @property
    def metadata(self) -> Any:
        return importlib.import_module("stepwell.client._provider").metadata

    @metadata.setter
    def metadata(self, value: Any) -> None:
        self.__dict__["_metadata_package"] = value


sys.modules[__name__].__class__ = _Package
