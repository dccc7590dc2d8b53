"""Flow decorators: attributes and their validation (behaviour lives in runtime/deploy)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stepwell.flow import FlowDecorator

_PROJECT_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(repr=False)
class ProjectDecorator(FlowDecorator):
    """Group flows into a project with isolated user/test/production branches."""

    NAME = "project"
    name: str = ""
    branch: str | None = None
    production: bool = False

    def validate(self) -> None:
        if not _PROJECT_NAME.match(self.name):
            self._fail(
                f"@project(name={self.name!r}): use lowercase letters, digits and '_' "
                "(e.g. @project(name='fraud_model'))."
            )


@dataclass(repr=False)
class ScheduleDecorator(FlowDecorator):
    """Run the deployed flow on a schedule."""

    NAME = "schedule"
    hourly: bool = False
    daily: bool = True
    weekly: bool = False
    cron: str | None = None
    timezone: str | None = None


@dataclass(repr=False)
class TriggerDecorator(FlowDecorator):
    """Start the deployed flow when an event arrives."""

    NAME = "trigger"
    event: str | dict | None = None
    events: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


@dataclass(repr=False)
class TriggerOnFinishDecorator(FlowDecorator):
    """Start the deployed flow when another flow finishes."""

    NAME = "trigger_on_finish"
    flow: str | dict | None = None
    flows: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


@dataclass(repr=False)
class PypiBaseDecorator(FlowDecorator):
    """PyPI packages for every step of the flow."""

    NAME = "pypi_base"
    packages: dict = field(default_factory=dict)
    python: str | None = None
    disabled: bool = False


@dataclass(repr=False)
class CondaBaseDecorator(FlowDecorator):
    """Conda packages for every step of the flow (recorded)."""

    NAME = "conda_base"
    packages: dict = field(default_factory=dict)
    libraries: dict = field(default_factory=dict)
    python: str | None = None
    disabled: bool | None = None
