"""``current`` shows the running task, and says clearly when none is running."""

from __future__ import annotations

import pytest

from stepwell import current
from stepwell.exceptions import StepwellError
from stepwell.flow import CurrentInfo, use_current


def test_outside_a_step_current_is_not_running_and_says_why() -> None:
    assert current.is_running_flow is False
    with pytest.raises(StepwellError) as info:
        current.run_id  # noqa: B018
    assert "only available while a step runs" in str(info.value)
    assert current.get("run_id", "none") == "none"


def test_inside_a_step_current_shows_the_task() -> None:
    info = CurrentInfo(
        flow_name="F", run_id="7", step_name="train", task_id="3", retry_count=1,
        username="ana", tags=frozenset({"x"}), parameter_names=("alpha",),
    )  # fmt: skip
    with use_current(info):
        assert current.is_running_flow
        assert current.pathspec == "F/7/train/3"
        assert (current.flow_name, current.run_id, current.step_name) == ("F", "7", "train")
        assert current.retry_count == 1 and current.username == "ana"
        assert current.parameter_names == ("alpha",)
        with pytest.raises(AttributeError) as unknown:
            current.no_such_thing  # noqa: B018
        assert "Available here:" in str(unknown.value)
    assert current.is_running_flow is False


def test_extras_appear_as_attributes() -> None:
    info = CurrentInfo("F", "1", "s", "2").with_extras(parallel="gang")
    with use_current(info):
        assert current.parallel == "gang"


def test_current_card_without_a_card_decorator_warns_and_does_nothing() -> None:
    with (
        use_current(CurrentInfo("F", "1", "train", "2")),
        pytest.warns(UserWarning, match="no @card"),
    ):
        current.card.append("anything")
        current.card["default"].extend(["more"])
        current.card["default"] = ["replaced"]
        assert current.card.components == {}
