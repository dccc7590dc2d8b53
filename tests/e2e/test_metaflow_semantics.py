"""Where stepwell behaves as Metaflow documents it: real flows, checked through the Client."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.client import Run, Task
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows" / "semantics"


def test_parameters_from_metaflow_and_stepwell_variables(stepwell_home: Path) -> None:
    flow = FLOWS / "env_param_flow.py"
    env = {"METAFLOW_RUN_ALPHA": "0.25", "METAFLOW_RUN_LEARNING_RATE": "7"}
    run = run_flow(flow, home=stepwell_home, env=env)
    assert run.ok, run.stderr
    assert Run(f"EnvParamFlow/{run.run_id}")["start"].task.data.seen == (0.25, 7)
    both = run_flow(flow, "--learning-rate", "9", home=stepwell_home,
                    env={**env, "STEPWELL_RUN_ALPHA": "0.75"})  # fmt: skip
    assert both.ok, both.stderr
    assert Run(f"EnvParamFlow/{both.run_id}")["start"].task.data.seen == (0.75, 9)


def test_every_attempt_keeps_its_logs_and_the_latest_is_shown(stepwell_home: Path) -> None:
    run = run_flow(FLOWS / "attempts_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    latest = Run(f"AttemptsFlow/{run.run_id}")["flaky"].task
    assert latest.current_attempt == 1 and latest.successful and latest.exception is None
    assert (latest.stdout, latest.stderr) == ("out of attempt 1\n", "err of attempt 1\n")
    assert (latest.data.partial, latest.data.done) == (1, "on attempt 1")
    first = Task(latest.pathspec, attempt=0)
    assert (first.stdout, first.stderr) == ("out of attempt 0\n", "err of attempt 0\n")
    assert [line for _, line in first.loglines("stderr")] == ["err of attempt 0"]
    assert "partial" not in first.data  # a failed attempt's artifacts are not shown
    error = first.exception
    assert error is not None and error.type == "builtins.KeyError"
    assert error.exception == "'missing on the first attempt'"
    assert "attempts_flow.py" in error.stacktrace


def test_current_card_calls_never_fail_the_task(stepwell_home: Path) -> None:
    from stepwell.cards import get_cards

    run = run_flow(FLOWS / "card_calls_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    assert "not added" in run.stderr and "no @card(id='nope')" in run.stderr
    task = Run(f"CardCallsFlow/{run.run_id}")["start"].task
    [default] = get_cards(task, type="default")
    [plots] = get_cards(task, id="plots")
    assert "default card" in default.get() and "no such card" not in default.get()
    assert "plot a" in plots.get() and "plot b" in plots.get()
    assert Run(f"CardCallsFlow/{run.run_id}")["plain"].task.data.ok is True


@pytest.mark.parametrize(
    ("options", "branch"),
    [((), "user.tester"), (("--branch", "exp"), "test.exp"), (("--production",), "prod"),
     (("--branch", "exp", "--production"), "prod.exp")],
)  # fmt: skip
def test_project_names_and_tags(stepwell_home: Path, options: tuple, branch: str) -> None:
    flow = FLOWS / "project_names_flow.py"
    run = run_flow(flow, home=stepwell_home, command=(*options, "run"))
    assert run.ok, run.stderr
    found = Run(f"ProjectNamesFlow/{run.run_id}", _namespace_check=False)
    assert found["start"].task.data.seen == {
        "project_name": "semantics",
        "branch_name": branch,
        "is_production": "--production" in options,
        "project_flow_name": f"semantics.{branch}.ProjectNamesFlow",
    }
    assert {"project:semantics", f"project_branch:{branch}"} <= found.system_tags
