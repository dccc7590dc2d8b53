"""@project branch names, as Metaflow documents them."""

from __future__ import annotations

import pytest

from stepwell import FlowSpec, project, step
from stepwell.exceptions import ConfigError
from stepwell.runtime._project import project_of


@project(name="fraud_model")
class ProjFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


@project(name="fraud_model", branch="exp")
class PinnedFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


@pytest.mark.parametrize(
    ("branch", "production", "name"),
    [(None, False, "user.Jane.Doe"), ("exp", False, "test.exp"), (None, True, "prod"),
     ("exp", True, "prod.exp")],
)  # fmt: skip
def test_branch_names(
    monkeypatch: pytest.MonkeyPatch, branch: str | None, production: bool, name: str
) -> None:
    monkeypatch.delenv("METAFLOW_OWNER", raising=False)
    info = project_of(ProjFlow, "Jane.Doe", branch, production)
    assert info is not None
    assert (info.branch_name, info.is_production, info.is_user_branch) == (
        name, production, branch is None and not production,
    )  # fmt: skip
    assert info.project_flow_name == f"fraud_model.{name}.ProjFlow"
    assert info.system_tags() == ["project:fraud_model", f"project_branch:{name}"]


def test_metaflow_owner_names_the_user_branch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAFLOW_OWNER", "ci_bot")
    info = project_of(ProjFlow, "jane", None, False)
    assert info is not None and info.branch_name == "user.ci_bot"


def test_the_same_branch_twice_is_fine_two_different_ones_are_not() -> None:
    info = project_of(PinnedFlow, "jane", "exp", False)
    assert info is not None and info.branch_name == "test.exp"
    with pytest.raises(ConfigError, match="keep one"):
        project_of(PinnedFlow, "jane", "other", False)
