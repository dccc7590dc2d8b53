"""``python flow.py check`` refuses what ``deploy`` would: bad cron, unknown upstream flows."""

from __future__ import annotations

import inspect

import pytest

from stepwell import FlowSpec, Parameter, schedule, step, trigger, trigger_on_finish
from stepwell.config import load_settings
from stepwell.exceptions import ConfigError
from stepwell.scheduler._service import check_deployment


def _flow(*decorators):
    class CheckedFlow(FlowSpec):
        day = Parameter("day", default="today")

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    for decorator in reversed(decorators):
        CheckedFlow = decorator(CheckedFlow)
    return CheckedFlow


def test_a_bad_cron_string_is_refused_at_the_flows_line(stepwell_home):
    flow = _flow(schedule(cron="61 * * * *"))
    with pytest.raises(ConfigError, match="not a valid cron expression") as caught:
        check_deployment(flow, load_settings())
    line = inspect.getsourcelines(flow)[1]  # the class statement
    assert caught.value.location == f"{__file__}:{line}"


def test_an_upstream_flow_this_store_never_saw_is_refused(stepwell_home):
    with pytest.raises(ConfigError, match="no flow named 'Upstream' has run or is deployed"):
        check_deployment(_flow(trigger_on_finish(flow="Upstream")), load_settings())
    assert not (stepwell_home / "stepwell.db").exists()  # checking wrote nothing


def test_an_event_mapped_to_a_missing_parameter_is_refused(stepwell_home):
    bad = trigger(event={"name": "data_ready", "parameters": {"dya": "date"}})
    with pytest.raises(ConfigError, match="parameter\\(s\\) 'dya'"):
        check_deployment(_flow(bad), load_settings())


def test_valid_schedules_and_triggers_pass_and_a_plain_flow_is_not_looked_at(stepwell_home):
    good = trigger(event={"name": "data_ready", "parameters": {"day": "date"}})
    check_deployment(_flow(schedule(cron="30 2 * * 1-5", timezone="Europe/Paris"), good),
                     load_settings())  # fmt: skip
    check_deployment(_flow(), load_settings())
