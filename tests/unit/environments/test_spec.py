"""Which environment each step asks for: Metaflow's merge rules for @pypi / @pypi_base / @conda."""

from __future__ import annotations

from typing import Any

import pytest

from stepwell import FlowSpec, conda, conda_base, pypi, pypi_base, step
from stepwell.environments import EnvironmentSpec, requirement, step_environments
from stepwell.exceptions import ConfigError
from stepwell.graph import build_graph


def _specs(flow_cls: type[FlowSpec]) -> dict[str, EnvironmentSpec]:
    graph = build_graph(flow_cls)
    decorators: list[Any] = list(getattr(flow_cls, "__stepwell_flow_decorators__", ()))
    return step_environments(graph, decorators)


@pytest.mark.parametrize(
    ("version", "kind", "expected"),
    [
        ("2.1.0", "pypi", "pandas==2.1.0"),
        ("", "pypi", "pandas"),
        (None, "pypi", "pandas"),
        (">=2,<3", "pypi", "pandas>=2,<3"),
        ("~=2.1", "pypi", "pandas~=2.1"),
        ("=2.1", "conda", "pandas==2.1.*"),
        ("2.1", "conda", "pandas==2.1"),
    ],
)
def test_a_version_becomes_a_requirement(version: Any, kind: str, expected: str) -> None:
    assert requirement("pandas", version, kind) == expected


def test_step_packages_merge_over_the_base_and_the_step_python_wins() -> None:
    @pypi_base(packages={"a": "1.0", "b": "2.0"}, python="3.11")
    class Flow(FlowSpec):
        @pypi(packages={"b": "3.0", "c": ""}, python="3.12")
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    specs = _specs(Flow)
    assert specs["start"].requirements() == ["a==1.0", "b==3.0", "c"]
    assert specs["start"].python == "3.12"
    assert specs["end"].requirements() == ["a==1.0", "b==2.0"] and specs["end"].python == "3.11"


def test_disabled_steps_and_flows_without_decorators_ask_for_nothing() -> None:
    @pypi_base(packages={"a": "1.0"})
    class Flow(FlowSpec):
        @pypi(disabled=True)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    class Plain(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    assert set(_specs(Flow)) == {"end"}
    assert _specs(Plain) == {}


def test_steps_asking_for_the_same_packages_share_one_spec() -> None:
    @pypi_base(packages={"a": "1.0"})
    class Flow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    specs = _specs(Flow)
    assert specs["start"] == specs["end"] and specs["start"].where != specs["end"].where
    assert specs["start"].key("3.11.7", "stepwell==0.1") == specs["end"].key(
        "3.11.7", "stepwell==0.1"
    )
    assert specs["start"].key("3.11.7", "") != specs["start"].key("3.12.1", "")


def test_conda_libraries_is_packages_old_name() -> None:
    class Flow(FlowSpec):
        @conda(libraries={"editdistance": "0.5.3"}, packages={"tomli-w": "=1.0"})
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    spec = _specs(Flow)["start"]
    assert spec.kind == "conda"
    assert spec.requirements() == ["editdistance==0.5.3", "tomli-w==1.0.*"]


def test_pypi_and_conda_on_one_step_or_flow_are_refused() -> None:
    class Both(FlowSpec):
        @conda(packages={"a": "1"})
        @pypi(packages={"a": "1"})
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(ConfigError, match="has both @pypi and @conda"):
        _specs(Both)

    @conda_base(packages={"a": "1"})
    class Mixed(FlowSpec):
        @pypi(packages={"b": "1"})
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(ConfigError, match="has @pypi but the flow has @conda_base"):
        _specs(Mixed)


@pytest.mark.parametrize(
    ("packages", "python", "message"),
    [
        ({"not a name!": "1"}, None, "is not a package name"),
        ({"a": ["1"]}, None, "must be text such as '1.2.0'"),
        ({"a": "1"}, "2.7", "is not a Python 3 version"),
    ],
)
def test_bad_packages_and_pythons_are_named(packages: Any, python: Any, message: str) -> None:
    class Flow(FlowSpec):
        @pypi(packages=packages, python=python)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(ConfigError, match=message) as caught:
        _specs(Flow)
    assert caught.value.location and "test_spec.py:" in caught.value.location
