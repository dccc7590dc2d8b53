"""Parameter, JSONType, IncludeFile and Config: declaration, conversion and errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from stepwell import Config, IncludeFile, JSONType, Parameter
from stepwell.exceptions import ParameterError
from stepwell.flow import ConfigValue, ParameterContext


def test_type_is_inferred_from_the_default() -> None:
    assert Parameter("a", default=3).type is int
    assert Parameter("b", default=0.5).type is float
    assert Parameter("c", default=True).type is bool
    assert Parameter("d", default="x").type is str
    assert Parameter("e", default={"k": 1}).type is JSONType


@pytest.mark.parametrize(
    ("param", "raw", "value"),
    [
        (Parameter("n", default=1), "42", 42),
        (Parameter("r", default=0.1), "2.5", 2.5),
        (Parameter("flag", default=False), "yes", True),
        (Parameter("flag", default=True), "0", False),
        (Parameter("m", type=JSONType), '{"layers": [1, 2]}', {"layers": [1, 2]}),
        (Parameter("names", default="a", separator=","), "x,y,z", ["x", "y", "z"]),
        (Parameter("ids", type=int, separator=","), "1,2,3", [1, 2, 3]),
    ],
)
def test_command_line_values_are_converted(param: Parameter, raw: str, value: object) -> None:
    assert param.convert(raw) == value


@pytest.mark.parametrize(
    ("param", "raw", "fragment"),
    [
        (Parameter("count", default=1), "abc", "expects int"),
        (Parameter("ratio", default=0.5), "half", "expects float"),
        (Parameter("flag", default=False), "maybe", "expects bool"),
        (Parameter("spec", type=JSONType), "{not json", "not valid JSON"),
    ],
)
def test_bad_values_name_the_parameter_and_its_type(
    param: Parameter, raw: str, fragment: str
) -> None:
    with pytest.raises(ParameterError) as info:
        param.convert(raw)
    assert f"'{param.name}'" in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("name", ["", "1abc", "has space", "tag", "max-workers"])
def test_invalid_or_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ParameterError):
        Parameter(name)


def test_a_misspelled_keyword_is_an_error_not_ignored() -> None:
    with pytest.raises(ParameterError) as info:
        Parameter("alpha", defualt=3)
    assert "defualt" in str(info.value)


def test_callable_default_gets_the_run_context() -> None:
    seen: list[ParameterContext] = []

    def default(ctx: ParameterContext) -> str:
        seen.append(ctx)
        return f"{ctx.flow_name}-{ctx.user_name}"

    param = Parameter("tag-name", default=default)
    assert param.resolve_default(ParameterContext("MyFlow", "ana", "tag-name")) == "MyFlow-ana"
    assert seen[0].parameter_name == "tag-name"


def test_include_file_reads_text_or_bytes(tmp_path: Path) -> None:
    text_file = tmp_path / "data.csv"
    text_file.write_text("a,b\n1,2\n")
    assert IncludeFile("data").convert(str(text_file)) == "a,b\n1,2\n"
    assert IncludeFile("raw", is_text=False).convert(str(text_file)) == b"a,b\n1,2\n"
    with pytest.raises(ParameterError) as info:
        IncludeFile("data").convert(str(tmp_path / "missing.csv"))
    assert "missing.csv" in str(info.value)


def test_config_reads_a_file_and_is_immutable(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text('{"train": {"cpu": 4, "layers": [1, 2]}}')
    value = Config("settings").convert(str(path))
    assert value.train.cpu == 4 and value["train"]["layers"] == (1, 2)
    with pytest.raises(AttributeError):
        value.train = {}  # type: ignore[misc]


def test_config_default_value_and_parser() -> None:
    config = Config("settings", default_value="a=1", parser=lambda t: dict([t.split("=")]))
    ctx = ParameterContext("F", "u", "settings")
    assert config.resolve_default(ctx)["a"] == "1"
    with pytest.raises(ParameterError):
        Config("bad", default_value="[1, 2]").resolve_default(ctx)


def test_config_values_survive_pickling() -> None:
    value = ConfigValue({"train": {"cpu": 4}})
    assert pickle.loads(pickle.dumps(value)).train.cpu == 4


def test_config_paths_in_decorators_are_resolved_and_validated_later() -> None:
    from stepwell import resources
    from stepwell.exceptions import DecoratorError
    from stepwell.flow import resolve_decorator, step_decorators

    settings = Config("settings")
    settings.attribute = "settings"

    @resources(cpu=settings.train.cpu, memory=settings["train"]["memory"])
    def train(self):
        pass

    [delayed] = step_decorators(train)
    assert repr(delayed.cpu) == "settings.train.cpu"
    resolved = resolve_decorator(
        delayed, {"settings": ConfigValue({"train": {"cpu": 4, "memory": 512}})}
    )
    assert (resolved.cpu, resolved.memory) == (4, 512)
    assert repr(delayed.cpu) == "settings.train.cpu"  # the class's own record is untouched
    with pytest.raises(DecoratorError) as info:
        resolve_decorator(delayed, {"settings": ConfigValue({"train": {"cpu": -1, "memory": 1}})})
    assert "'cpu' must be positive" in str(info.value) and "settings.train.cpu" in str(info.value)
    with pytest.raises(ParameterError) as missing:
        resolve_decorator(delayed, {"settings": ConfigValue({"train": {}})})
    assert "no key 'cpu'" in str(missing.value)
