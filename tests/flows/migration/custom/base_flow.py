"""The BaseFlow pattern: a base class carries a mutator, @project from a config, shared helpers."""

import tomllib
from mydecorators import limits_linter

from stepwell import Config, FlowSpec, config_expr, project


def parse_limits(text):
    return tomllib.loads(text)["limits"]


@limits_linter
@project(name=config_expr("project.name"))
class BaseFlow(FlowSpec):
    project_config = Config("project", default="project.toml", parser=tomllib.loads)
    limits = Config("limits", default="project.toml", parser=parse_limits)

    def doubled(self, value):
        return 2 * value
