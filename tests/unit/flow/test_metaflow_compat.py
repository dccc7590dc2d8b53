"""Corners of Metaflow's flow API that real example flows use (issue 15, items 3-5)."""

from __future__ import annotations

import pytest

import stepwell
from stepwell import (
    Config,
    FlowMutator,
    FlowSpec,
    Parameter,
    config_expr,
    current,
    profile,
    resources,
    step,
)
from stepwell.exceptions import DecoratorError, ParameterError
from stepwell.flow import CurrentInfo, resolve_decorator, use_current
from stepwell.graph import build_graph, render_text


class ConstFlow(FlowSpec):
    """A flow with a class constant."""

    LIMIT = 3
    config = Config("config", default_value={"cpu": 2, "name": "x"})
    verbose = Parameter("verbose", is_flag=True, help="say more")

    @resources(cpu=config_expr("config.cpu * 2"))
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def test_iterating_a_flow_yields_its_steps_with_name_and_decorators() -> None:
    flow = ConstFlow(use_cli=False)
    steps = list(flow)
    assert [s.name for s in steps] == ["start", "end"]
    assert [d.NAME for d in steps[0].decorators] == ["resources"]
    assert flow.name == "ConstFlow" and flow.script_name == "test_metaflow_compat.py"


def test_a_class_constant_cannot_be_reassigned_in_a_step() -> None:
    flow = ConstFlow(use_cli=False)
    with pytest.raises(AttributeError, match=r"LIMIT.*not modifiable"):
        flow.LIMIT = 4
    flow.limit_seen = 4  # any other name is an artifact as usual
    assert flow.limit_seen == 4 and flow.LIMIT == 3


def test_a_config_may_be_named_config_but_a_parameter_may_not() -> None:
    assert ConstFlow._sw_parameters()["config"].name == "config"
    with pytest.raises(ParameterError, match="reserved"):
        Parameter("config")


def test_parameter_accepts_click_keywords_and_is_flag_makes_a_boolean() -> None:
    verbose = ConstFlow._sw_parameters()["verbose"]
    assert verbose.is_flag and verbose.type is bool and verbose.default is False
    assert Parameter("n", default=1, hidden=True, show_default=False).click_options == {
        "hidden": True
    }
    with pytest.raises(ParameterError, match="unknown argument"):
        Parameter("n", defualt=1)


def test_a_dotted_path_parser_is_imported_when_the_config_is_read() -> None:
    config = Config("settings", parser="tomllib.loads")
    assert dict(config.parse_text('a = 1\n[b]\nc = "d"\n', "test")) == {"a": 1, "b": {"c": "d"}}
    broken = Config("settings", parser="tomllib.no_such_loader")
    with pytest.raises(ParameterError, match=r"cannot be imported.*tomllib\.loads"):
        broken.parse_text("a = 1", "test")


def test_config_expr_is_evaluated_once_the_configs_are_known() -> None:
    [deco] = [d for d in build_graph(ConstFlow)["start"].decorators if d.NAME == "resources"]
    config = ConstFlow._sw_parameters()["config"]
    resolved = resolve_decorator(deco, {"config": config.resolve_default(None)})  # type: ignore[arg-type]
    assert resolved.cpu == 4
    with pytest.raises(ParameterError, match="config_expr"):
        config_expr("nope.cpu").resolve({})


def test_show_lists_configs_apart_from_parameters() -> None:
    text = render_text(build_graph(ConstFlow), ConstFlow)
    params = text[text.index("Parameters:") : text.index("Configs:")]
    assert "--verbose" in params and "config" not in params
    assert "    config (default value)  --config config FILE" in text


def test_current_offers_trigger_and_explains_project_attributes() -> None:
    with use_current(CurrentInfo("F", "1", "start", "2")):
        assert current.trigger is None and current.tempdir is None
        with pytest.raises(AttributeError, match="only in a flow with @project"):
            current.project_name  # noqa: B018
        with pytest.raises(AttributeError, match="project_flow_name"):
            current.nothing_here  # noqa: B018


def test_metaflow_exception_names_catch_stepwell_errors() -> None:
    from stepwell.exception import MetaflowException, MetaflowNotFound
    from stepwell.exceptions import NotFoundError

    assert stepwell.MetaflowNotFound is MetaflowNotFound is NotFoundError
    with pytest.raises(MetaflowException):
        raise NotFoundError("no run")
    assert str(MetaflowException()) == ""


def test_profile_prints_or_accumulates_milliseconds(capsys: pytest.CaptureFixture[str]) -> None:
    with profile("load"):
        pass
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PROFILE: load starting"
    assert out[1].startswith("PROFILE: load completed in ") and out[1].endswith("ms")
    stats: dict[str, int] = {"load": 5}
    with profile("load", stats_dict=stats):
        pass
    assert stats["load"] >= 5 and capsys.readouterr().out == ""


def test_mutators_are_recorded_and_leave_the_class_and_the_function_in_place() -> None:
    from stepwell.flow import StepMutator, flow_mutators, step_mutators

    class add_retry(FlowMutator):
        def init(self, *args, **kwargs):
            self.times = kwargs.get("times", 1)

    class tweak(StepMutator):
        pass

    @add_retry(times=3)
    class Base(FlowSpec):
        pass

    @add_retry
    class Child(Base):
        @tweak
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    assert isinstance(Child, type) and issubclass(Child, FlowSpec)
    assert [m._kwargs for m in flow_mutators(Child)] == [{"times": 3}, {}]  # base's first
    assert [type(m) for m in step_mutators(Child.start)] == [tweak]
    with pytest.raises(DecoratorError, match="apply it to a FlowSpec class"):
        add_retry(times=1)(42)
    with pytest.raises(DecoratorError, match="defines no init"):
        tweak(x=1).external_init({})


@pytest.mark.parametrize("name", ["name", "input", "index", "next", "foreach_stack"])
def test_assigning_a_reserved_attribute_is_a_clear_error(name: str) -> None:
    from stepwell.exceptions import FlowAttributeError

    class Plain(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    flow = Plain(use_cli=False)
    with pytest.raises(FlowAttributeError, match=f"self.{name} = ... : '{name}' is part of"):
        setattr(flow, name, 1)  # dynamic: the linter cannot see it
