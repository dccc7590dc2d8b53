"""@project: which project and branch a run belongs to, as ``current`` and system tags show it.

As Metaflow documents it: the branch is ``user.<username>`` by default (the
user name as it is, or ``METAFLOW_OWNER`` when set), ``test.<branch>`` with
``--branch`` and ``prod`` with ``--production`` (``prod.<branch>`` with both).
Naming two different branches in the decorator and on the command line is an
error (the same one twice is not). The flow's name in the project is
``<project>.<branch>.<FlowName>``; the run gets the system tags
``project:<project>`` and ``project_branch:<branch>``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from stepwell.exceptions import ConfigError
from stepwell.flow import FlowSpec, flow_decorators

_BRANCH = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ProjectInfo:
    """What ``current`` says about the run's project."""

    project_name: str
    branch_name: str
    is_user_branch: bool
    is_production: bool
    project_flow_name: str

    def system_tags(self) -> list[str]:
        return [f"project:{self.project_name}", f"project_branch:{self.branch_name}"]

    def as_current(self) -> dict[str, Any]:
        return dict(self.__dict__)


def project_of(
    flow_cls: type[FlowSpec],
    username: str,
    branch: str | None,
    production: bool,
    decorators: list[Any] | None = None,
) -> ProjectInfo | None:
    """The run's project (None without @project); validates --branch/--production.

    ``decorators``: the run's flow decorators (configs resolved, mutators applied);
    the class's own by default.
    """
    found = flow_decorators(flow_cls) if decorators is None else decorators
    decorator: Any = next((d for d in found if d.NAME == "project"), None)
    if decorator is None:
        if branch or production:
            raise ConfigError(
                f"--branch and --production need @project on {flow_cls.__name__}; "
                "add @project(name='...') to the flow class."
            )
        return None
    if branch and decorator.branch and branch != decorator.branch:
        raise ConfigError(
            f"The branch is named both in @project (branch={decorator.branch!r}) and by "
            f"--branch {branch}; keep one."
        )
    branch = branch or decorator.branch
    production = production or decorator.production
    if branch is not None and not _BRANCH.match(branch):
        raise ConfigError(
            f"Branch {branch!r} is not valid: use lowercase letters, digits, '_', '.' and '-'."
        )
    if production:
        name = f"prod.{branch}" if branch else "prod"
    elif branch:
        name = f"test.{branch}"
    else:
        name = f"user.{os.environ.get('METAFLOW_OWNER') or username}"
    return ProjectInfo(
        project_name=decorator.name,
        branch_name=name,
        is_user_branch=name.startswith("user."),
        is_production=production,
        project_flow_name=f"{decorator.name}.{name}.{flow_cls.__name__}",
    )
