"""Per-step dependency environments: @pypi / @pypi_base (and @conda) built with uv.

Rules: an environment is resolved once per distinct request and built once per
distinct lock, under ``STEPWELL_HOME/environments``, never half-written under
its final name; uv is imported or run only when a flow asks for an
environment; this package starts no task (the runtime runs a step's tasks in
its environment's interpreter).
"""

from stepwell.environments._prepare import (
    RuntimeRequirements,
    prepare_environments,
    runtime_requirements,
)
from stepwell.environments._spec import EnvironmentSpec, requirement, step_environments
from stepwell.environments._store import MARKER, Environment, EnvironmentStore, Lock
from stepwell.environments._uv import EnvironmentBuildError

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
