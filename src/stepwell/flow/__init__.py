"""The flow DSL: ``FlowSpec``, ``step``, ``Parameter``, ``Config``, ``IncludeFile``, ``current``.

Rules: decorators and declarations only *record* (no import-time side
effects, no names injected into globals); interpretation belongs to
``graph/`` and ``runtime/``. This layer imports nothing above ``config``.
"""

from stepwell.flow._config import Config, ConfigValue, DelayedConfig, resolve_decorator
from stepwell.flow._current import Current, CurrentInfo, current, use_current
from stepwell.flow._decorators import (
    Decorator,
    FlowDecorator,
    StepDecorator,
    flow_decorators,
    make_decorator,
    step_decorators,
)
from stepwell.flow._flowspec import INTERNAL_PREFIX, FlowSpec, TaskState, Transition
from stepwell.flow._loading import flows_in_module, import_flow_file, load_flow_class
from stepwell.flow._parameters import (
    IncludeFile,
    JSONType,
    Parameter,
    ParameterContext,
)
from stepwell.flow._step import StepMarker, is_step, step, step_marker
from stepwell.flow._user_decorators import UserStepDecorator, user_step_decorator

__all__ = [
    "INTERNAL_PREFIX",
    "Config",
    "ConfigValue",
    "Current",
    "CurrentInfo",
    "Decorator",
    "DelayedConfig",
    "FlowDecorator",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "Parameter",
    "ParameterContext",
    "StepDecorator",
    "StepMarker",
    "TaskState",
    "Transition",
    "UserStepDecorator",
    "current",
    "flow_decorators",
    "flows_in_module",
    "import_flow_file",
    "is_step",
    "load_flow_class",
    "make_decorator",
    "resolve_decorator",
    "step",
    "step_decorators",
    "step_marker",
    "use_current",
    "user_step_decorator",
]
