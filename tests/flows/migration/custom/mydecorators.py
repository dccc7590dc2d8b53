"""Custom decorators and mutators written against Metaflow's documented API (import changed).

Each one exercises a documented behaviour: code around the step, skipping it
(``yield {}``), replacing it (``yield function``), a class with
``pre_step``/``post_step``, and flow and step mutators adding decorators.
"""

import os
import time

from stepwell import FlowMutator, StepMutator, UserStepDecorator, current, user_step_decorator


@user_step_decorator
def stopwatch(step_name, flow, inputs=None, attributes=None):
    started = time.time()
    yield
    timings = dict(getattr(flow, "timings", {}))
    for inp in inputs or []:
        timings.update(getattr(inp, "timings", {}))
    timings[step_name] = time.time() - started
    flow.timings = timings


@user_step_decorator
def memo(step_name, flow, inputs=None, attributes=None):
    if attributes.get("reuse"):
        setattr(flow, attributes["artifact"], "reused")
        yield {}  # skip the step: its own code does not run
    else:
        yield


@user_step_decorator
def rescue(step_name, flow, inputs=None, attributes=None):
    def fallback(self):
        self.rescued = f"attempt {current.retry_count}"

    if current.retry_count == 0:
        yield
    else:
        yield fallback  # run this instead of the step, from the second attempt on


class counted(UserStepDecorator):
    def init(self, *args, **kwargs):
        self.label = kwargs.get("label", "none")

    def pre_step(self, step_name, flow, inputs=None):
        flow.pre_label = f"{self.label}:{step_name}"

    def post_step(self, step_name, flow, exception=None):
        if isinstance(exception, ValueError):
            flow.swallowed = str(exception)
            return None, {}  # the step succeeded; take its own transition
        return exception


class resilient(FlowMutator):
    def init(self, *args, **kwargs):
        self.times = kwargs.get("times", 1)

    def mutate(self, mutable_flow):
        for _name, step in mutable_flow.steps:
            step.add_decorator(
                "retry",
                deco_kwargs={"times": self.times, "minutes_between_retries": 0},
                duplicates=step.IGNORE,
            )
            step.add_decorator(rescue, duplicates=step.IGNORE)


class limits_linter(FlowMutator):
    def mutate(self, mutable_flow):
        limits = mutable_flow.limits
        for _name, step in mutable_flow.steps:
            for deco_name, _qualified, _args, attributes in step.decorator_specs:
                if deco_name == "resources" and attributes.get("cpu", 0) > limits["cpu"]:
                    attributes["cpu"] = limits["cpu"]
                    step.add_decorator(deco_name, deco_kwargs=attributes, duplicates=step.OVERRIDE)


class with_env(StepMutator):
    def init(self, *args, **kwargs):
        self.value = kwargs["value"]

    def mutate(self, mutable_step):
        mutable_step.add_decorator("environment", deco_kwargs={"vars": {"MUTATED": self.value}})


def seen_env():
    return os.environ.get("MUTATED")
