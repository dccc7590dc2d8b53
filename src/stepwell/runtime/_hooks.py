"""What runs around a step inside its task: @environment, @secrets, user decorators, @catch.

Each is a context entered in the worker before the user's function and left
after it, innermost closest to the function, in the order the decorators
are written (the top one outermost).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from stepwell.exceptions import CaughtException, StepwellError
from stepwell.flow import FlowSpec, StepPlan, Transition
from stepwell.runtime._secrets import SECRET_PREFIX, masked_output, resolve_secrets
from stepwell.runtime._spec import CaughtFailure


@contextmanager
def step_hooks(
    node: Any, flow: FlowSpec, inputs: Any, secret_values: list[str]
) -> Iterator[StepPlan | None]:
    """Enter every decorator's context for one run of the step's function.

    Yields how to run the step: None (its own function), or the plan of the
    outermost user decorator that skips or replaces it (decorators inside that
    one are then not entered: it replaced everything it wraps). The values of
    the step's secrets are appended to ``secret_values``, so the caller can
    mask them in what it reports if the step fails.
    """
    plan: StepPlan | None = None
    with ExitStack() as stack:
        secrets = _secret_values(node)
        secret_values.extend(secrets.values())
        stack.enter_context(_environment({**_environment_vars(node), **secrets}))
        if secrets:
            stack.enter_context(masked_output(secrets.values()))
        for decorator in reversed(node.decorators):  # the top decorator is the outermost
            if getattr(decorator, "is_user_decorator", False):
                plan = stack.enter_context(decorator.around(node.name, flow, inputs))
                if plan is not None:
                    break
        yield plan
    catch = node.decorator("catch")
    if catch is not None and catch.var and catch.var not in flow.__dict__:
        flow.__dict__[catch.var] = None  # the step succeeded: nothing was caught


#: Decorators whose work lives in a higher layer, found by name (not imported by path):
#: decorator -> (module, context function, attribute of ``current`` for its collector).
EXTENSIONS: dict[str, tuple[str, str, str]] = {"card": ("stepwell.cards", "task_cards", "card")}


def enter_extensions(
    stack: ExitStack, node: Any, flow: FlowSpec, spec: Any, ctx: Any, started: float
) -> Iterator[tuple[str, Any]]:
    """Enter the context of each extension the step's decorators ask for.

    Yields ``(current attribute, sink)``; a sink has ``.collector`` (what
    ``current.<attribute>`` is in the step) and, once the context is left,
    ``.records`` (task metadata entries to record).
    """
    for name, (module, function, attribute) in EXTENSIONS.items():
        if node.decorator(name) is None:
            continue
        factory = getattr(importlib.import_module(module), function)
        sink = stack.enter_context(
            factory(node, flow, spec, ctx.store, started, graph=ctx.graph, home=ctx.info.home)
        )
        yield attribute, sink


def _environment_vars(node: Any) -> dict[str, str]:
    environment = node.decorator("environment")
    return dict(environment.vars) if environment is not None else {}


def _secret_values(node: Any) -> dict[str, str]:
    secrets = node.decorator("secrets")
    return resolve_secrets(secrets.sources) if secrets is not None else {}


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """Set ``variables`` for the step only; hide every stored secret from it."""
    hidden = {
        name: os.environ.pop(name) for name in list(os.environ) if name.startswith(SECRET_PREFIX)
    }
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.environ.update(hidden)


def run_step_body(node: Any, flow: FlowSpec, inputs: Any, plan: StepPlan | None) -> bool:
    """Run the step as ``plan`` says; True when a user decorator skipped or replaced it."""
    function = getattr(flow, node.name)
    if plan is None:
        function(inputs) if node.is_join else function()
        return False
    if plan.replacement is not None:
        returned = plan.replacement(flow, inputs) if node.is_join else plan.replacement(flow)
        if isinstance(returned, dict) or returned is True:
            flow.__dict__["_sw_next_args"] = {} if returned is True else dict(returned)
        return True
    flow.__dict__["_sw_next_args"] = dict(plan.next_args or {})
    return True


def default_transition(node: Any, flow: FlowSpec, next_args: dict[str, Any]) -> None:
    """``self.next()`` as the step's own code calls it, for a step a decorator stood in for."""
    if node.is_end:
        return
    args = dict(next_args)
    if node.transition == "switch":
        targets: list[Any] = [
            {case: getattr(flow, step) for case, step in node.switch_cases.items()}
        ]
        args.setdefault("condition", node.condition)
    else:
        targets = [getattr(flow, step) for step in node.out_steps]
        if node.transition == "foreach":
            args.setdefault("foreach", node.foreach_var)
        if node.transition == "parallel":
            args.setdefault("num_parallel", node.num_parallel)
    flow.next(*targets, **args)


def run_fallback(node: Any, flow: FlowSpec, caught: CaughtFailure) -> Transition | None:
    """The @catch attempt: store the failure, run no user code, take the static transition."""
    catch = node.decorator("catch")
    exception = CaughtException(caught.exception_type, caught.message, caught.traceback)
    if catch.print_exception:
        print(
            f"@catch: step '{node.name}' failed on attempt {caught.attempt} with "
            f"{str(exception).rstrip('.')}; the run goes on without its artifacts.",
            file=sys.stderr,
        )
    if catch.var:
        flow.__dict__[catch.var] = exception
    if node.is_end:
        return None
    kind = node.transition
    if kind not in ("linear", "split"):
        raise StepwellError(
            f"@catch cannot continue step '{node.name}': its {kind} transition needs values "
            "the failed step never produced. Move the risky code into a step before it.",
            location=f"{node.file}:{node.line}",
        )
    return Transition(tuple(node.out_steps))
