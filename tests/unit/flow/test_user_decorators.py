"""User step decorators: attached like any decorator, run around the step by the runtime."""

from __future__ import annotations

import pytest

from stepwell import user_step_decorator
from stepwell.exceptions import StepwellError
from stepwell.flow import GeneratorStepDecorator, StepPlan, UserStepDecorator, step_decorators


@user_step_decorator
def tagged(step_name, flow, inputs=None, attributes=None):
    flow.log.append(f"before {step_name} {attributes}")
    yield
    flow.log.append("after")


class _Flow:
    def __init__(self) -> None:
        self.log: list[str] = []


def _attached(func) -> UserStepDecorator:
    [decorator] = step_decorators(func)
    assert isinstance(decorator, UserStepDecorator)
    return decorator


def test_attributes_are_recorded_and_passed() -> None:
    @tagged(level=2)
    def train(self):
        pass

    decorator = _attached(train)
    assert decorator.NAME == "tagged" and decorator.options == {"level": 2}
    flow = _Flow()
    with decorator.around("train", flow, None):
        flow.log.append("step")
    assert flow.log == ["before train {'level': 2}", "step", "after"]


def test_the_step_exception_reaches_the_generator_and_propagates() -> None:
    @tagged
    def train(self):
        pass

    flow = _Flow()
    with pytest.raises(ZeroDivisionError), _attached(train).around("train", flow, None):
        raise ZeroDivisionError
    assert flow.log == ["before train {}"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (lambda: iter(()), "must be a generator"),
        ("twice", "yielded more than once"),
    ],
)
def test_misbehaving_generators_are_explained(body, fragment) -> None:
    def no_yield(step_name, flow, inputs=None, attributes=None):
        return
        yield  # unreachable: makes this a generator

    def twice(step_name, flow, inputs=None, attributes=None):
        yield
        yield

    function = {None: no_yield, "twice": twice}.get(body, lambda *a: body())  # type: ignore[arg-type]
    decorator = GeneratorStepDecorator(function)
    with pytest.raises(StepwellError) as info, decorator.around("s", _Flow(), None):
        pass
    assert fragment in str(info.value)


def test_a_generator_that_never_yields_skips_the_step() -> None:
    def no_yield(step_name, flow, inputs=None, attributes=None):
        return
        yield  # unreachable: makes this a generator

    with GeneratorStepDecorator(no_yield).around("s", _Flow(), None) as plan:
        assert plan == StepPlan(skip=True, next_args={})


def test_what_a_generator_yields_becomes_the_plan() -> None:
    def replacement(flow):
        return True

    def yields(value):
        def deco(step_name, flow, inputs=None, attributes=None):
            yield value

        return GeneratorStepDecorator(deco)

    with yields(None).around("s", _Flow(), None) as plan:
        assert plan is None
    with yields({"foreach": "items"}).around("s", _Flow(), None) as plan:
        assert plan == StepPlan(skip=True, next_args={"foreach": "items"})
    with yields(replacement).around("s", _Flow(), None) as plan:
        assert plan is not None and plan.replacement is replacement
    with pytest.raises(StepwellError, match="yielded 42"), yields(42).around("s", _Flow(), None):
        pass


class timed(UserStepDecorator):
    def init(self, *args, **kwargs):
        self.label = kwargs.get("label", "-")

    def pre_step(self, step_name, flow, inputs=None):
        flow.log.append(f"pre {step_name} {self.label}")

    def post_step(self, step_name, flow, exception=None):
        flow.log.append(f"post {type(exception).__name__ if exception else None}")
        return None if isinstance(exception, KeyError) else exception


def test_a_class_decorator_runs_its_hooks_and_may_swallow_the_exception() -> None:
    @timed(label="x")
    def train(self):
        pass

    @timed
    def other(self):
        pass

    decorator = _attached(train).with_configs({})
    assert isinstance(decorator, timed) and decorator.attributes() == {"label": "x"}
    flow = _Flow()
    with decorator.around("train", flow, None) as plan:
        assert plan is None
        raise KeyError("swallowed by post_step")
    with pytest.raises(ValueError), decorator.around("train", flow, None):
        raise ValueError("kept")
    assert flow.log == ["pre train x", "post KeyError", "pre train x", "post ValueError"]
    assert other.__name__ == "other" and _attached(other).NAME == "timed"


def test_a_class_decorator_given_arguments_without_init_is_explained() -> None:
    class plain(UserStepDecorator):
        pass

    @plain(x=1)
    def train(self):
        pass

    with pytest.raises(StepwellError, match="defines no init"):
        _attached(train).with_configs({})
