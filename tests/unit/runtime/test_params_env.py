"""Parameter values from the environment: command line > STEPWELL_RUN_X > METAFLOW_RUN_X."""

from __future__ import annotations

import pytest

from stepwell import FlowSpec, Parameter, step
from stepwell.exceptions import ParameterError
from stepwell.runtime._params import parameter_variables, resolve_parameters


class EnvParamsFlow(FlowSpec):
    alpha = Parameter("alpha", type=float, default=0.5)
    learning_rate = Parameter("learning-rate", type=int, default=1)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def _resolve(given: dict, env: dict) -> dict:
    return resolve_parameters(EnvParamsFlow, given, user="tester", env=env)


def test_variable_names_are_upper_case_with_dashes_as_underscores() -> None:
    assert parameter_variables("learning-rate") == (
        "STEPWELL_RUN_LEARNING_RATE",
        "METAFLOW_RUN_LEARNING_RATE",
    )


def test_precedence() -> None:
    assert _resolve({}, {}) == {"alpha": 0.5, "learning_rate": 1}
    env = {"METAFLOW_RUN_ALPHA": "0.25", "METAFLOW_RUN_LEARNING_RATE": "7"}
    assert _resolve({}, env) == {"alpha": 0.25, "learning_rate": 7}
    env["STEPWELL_RUN_ALPHA"] = "0.75"
    assert _resolve({}, env)["alpha"] == 0.75
    assert _resolve({"alpha": "0.1"}, env)["alpha"] == 0.1


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(ParameterError, match="METAFLOW_RUN_LEARNING_RATE"):
        _resolve({}, {"METAFLOW_RUN_LEARNING_RATE": "many"})
