"""Per-step dependency environments: @pypi / @pypi_base (and @conda) built with uv.

Rules: an environment is resolved once per distinct request and built once per
distinct lock, under ``STEPWELL_HOME/environments``, never half-written under
its final name; uv is imported or run only when a flow asks for an
environment; this package starts no task (the runtime runs a step's tasks in
its environment's interpreter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes

if TYPE_CHECKING:
    from stepwell.environments._prepare import (
        RuntimeRequirements,
        prepare_environments,
        runtime_requirements,
    )
    from stepwell.environments._spec import EnvironmentSpec, requirement, step_environments
    from stepwell.environments._store import MARKER, Environment, EnvironmentStore, Lock
    from stepwell.environments._uv import EnvironmentBuildError

#: Imported when first used: asking whether a flow has environments imports no builder.
_LAZY = {
    "RuntimeRequirements": "_prepare", "prepare_environments": "_prepare",
    "runtime_requirements": "_prepare",
    "EnvironmentSpec": "_spec", "requirement": "_spec", "step_environments": "_spec",
    "MARKER": "_store", "Environment": "_store", "EnvironmentStore": "_store", "Lock": "_store",
    "EnvironmentBuildError": "_uv",
}  # fmt: skip


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "MARKER",
    "Environment",
    "EnvironmentBuildError",
    "EnvironmentSpec",
    "EnvironmentStore",
    "Lock",
    "RuntimeRequirements",
    "prepare_environments",
    "requirement",
    "runtime_requirements",
    "step_environments",
]
