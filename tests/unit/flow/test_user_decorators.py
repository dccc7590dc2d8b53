"""User step decorators: attached like any decorator, run around the step by the runtime."""

from __future__ import annotations

import pytest

from stepwell import user_step_decorator
from stepwell.exceptions import StepwellError
from stepwell.flow import UserStepDecorator, step_decorators


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
        (None, "returned without yielding"),
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
    decorator = UserStepDecorator(function=function)
    with pytest.raises(StepwellError) as info, decorator.around("s", _Flow(), None):
        pass
    assert fragment in str(info.value)
