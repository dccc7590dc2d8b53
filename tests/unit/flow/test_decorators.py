"""Decorators record themselves with typed, validated attributes."""

from __future__ import annotations

import pytest

from stepwell import FlowSpec, card, catch, project, resources, retry, schedule, step, timeout
from stepwell.exceptions import DecoratorError
from stepwell.flow import flow_decorators, step_decorators


def test_step_decorators_are_recorded_in_any_order_with_their_attributes() -> None:
    class Flow(FlowSpec):
        @retry(times=2)
        @step
        @card(type="blank", id="a")
        @card
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    names = [d.NAME for d in step_decorators(Flow.start)]
    assert sorted(names) == ["card", "card", "retry"]
    [r] = [d for d in step_decorators(Flow.start) if d.NAME == "retry"]
    assert r.times == 2 and r.minutes_between_retries is None
    # Metaflow's 2-minute default is for deployed runs; a local run does not wait it.
    assert r.deployed_delay_minutes == 2 and r.local_delay_seconds == 0
    assert repr(r) == "@retry(times=2)"


def test_flow_decorators_are_recorded() -> None:
    @project(name="fraud_model")
    @schedule(hourly=True)
    class Flow(FlowSpec):
        pass

    assert {d.NAME for d in flow_decorators(Flow)} == {"project", "schedule"}


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda: retry(tims=2), ["'tims'", "times, minutes_between_retries"]),
        (lambda: retry(times="3"), ["'times' must be int", "got str"]),
        (lambda: retry(times=1000), ["between 0 and 100"]),
        (lambda: timeout(), ["positive limit"]),
        (lambda: timeout(seconds=-1), ["0 or more"]),
        (lambda: resources(cpu=0), ["'cpu' must be positive"]),
        (lambda: resources(memory="lots"), ["'memory' must be int"]),
        (lambda: catch(var="not an identifier"), ["valid Python identifier"]),
        (lambda: project(name="Has Spaces"), ["lowercase"]),
    ],
)
def test_bad_attributes_name_decorator_attribute_and_valid_ones(make, fragments) -> None:
    with pytest.raises(DecoratorError) as info:
        make()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "Valid attributes of @" in message
    assert "test_decorators.py:" in (info.value.location or "")


def test_a_decorator_twice_on_one_step_is_an_error_except_card() -> None:
    with pytest.raises(DecoratorError) as info:

        @retry
        @retry(times=1)
        def start(self):
            pass

    assert "applied twice" in str(info.value)


def test_a_step_decorator_on_a_class_is_an_error() -> None:
    with pytest.raises(DecoratorError) as info:

        @retry
        class Flow(FlowSpec):
            pass

    assert "step decorator" in str(info.value)


def test_a_flow_decorator_on_a_step_is_an_error() -> None:
    with pytest.raises(DecoratorError) as info:

        @schedule(daily=True)
        def start(self):
            pass

    assert "flow decorator" in str(info.value)
