"""The flow DSL: ``FlowSpec``, ``step``, ``Parameter``, ``Config``, ``IncludeFile``, ``current``.

Rules: decorators and declarations only *record* (no import-time side
effects, no names injected into globals); interpretation belongs to
``graph/`` and ``runtime/``. This layer imports nothing above ``config``.
"""

from stepwell.flow._config import (
    Config,
    ConfigExpr,
    ConfigValue,
    DelayedConfig,
    config_expr,
    resolve_decorator,
)
from stepwell.flow._current import Current, CurrentInfo, current, use_current
from stepwell.flow._decorators import (
    Decorator,
    FlowDecorator,
    StepDecorator,
    flow_decorators,
    make_decorator,
    step_decorators,
)
from stepwell.flow._flowspec import (
    IMPLICIT_ARTIFACTS,
    INTERNAL_PREFIX,
    RESERVED_ATTRIBUTES,
    FlowSpec,
    FlowStep,
    ForeachFrame,
    TaskState,
    Transition,
)
from stepwell.flow._loading import flows_in_module, import_flow_file, load_flow_class
from stepwell.flow._mutators import FlowMutator, StepMutator, flow_mutators, step_mutators
from stepwell.flow._parameters import (
    IncludeFile,
    JSONType,
    Parameter,
    ParameterContext,
)
from stepwell.flow._step import StepMarker, is_step, step, step_marker
from stepwell.flow._user_decorators import (
    USER_SKIP_STEP,
    GeneratorStepDecorator,
    StepPlan,
    UserStepDecorator,
    user_step_decorator,
)

__all__ = [
    "IMPLICIT_ARTIFACTS",
    "INTERNAL_PREFIX",
    "RESERVED_ATTRIBUTES",
    "USER_SKIP_STEP",
    "Config",
    "ConfigExpr",
    "ConfigValue",
    "Current",
    "CurrentInfo",
    "Decorator",
    "DelayedConfig",
    "FlowDecorator",
    "FlowMutator",
    "FlowSpec",
    "FlowStep",
    "ForeachFrame",
    "GeneratorStepDecorator",
    "IncludeFile",
    "JSONType",
    "Parameter",
    "ParameterContext",
    "StepDecorator",
    "StepMarker",
    "StepMutator",
    "StepPlan",
    "TaskState",
    "Transition",
    "UserStepDecorator",
    "config_expr",
    "current",
    "flow_decorators",
    "flow_mutators",
    "flows_in_module",
    "import_flow_file",
    "is_step",
    "load_flow_class",
    "make_decorator",
    "resolve_decorator",
    "step",
    "step_decorators",
    "step_marker",
    "step_mutators",
    "use_current",
    "user_step_decorator",
]
