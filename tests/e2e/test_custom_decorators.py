"""Custom decorators and mutators as Metaflow documents them: flows run with the import changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.testing import run_flow

CUSTOM = Path(__file__).parents[1] / "flows" / "migration" / "custom"


@pytest.fixture(autouse=True)
def _in_the_flows_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configs' default files are read from the working directory, as in Metaflow."""
    monkeypatch.chdir(CUSTOM)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # nothing written next to the flows


def _run(flow: str, *args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, flow, *args], cwd=CUSTOM, capture_output=True, text=True, timeout=120,
        check=False, env={**os.environ, "STEPWELL_HOME": str(home), **env},
    )  # fmt: skip


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_mutators_and_custom_decorators_shape_the_run(stepwell_home: Path, executor: str) -> None:
    run = run_flow(CUSTOM / "mutated_flow.py", "--executor", executor, home=stepwell_home)
    assert run.ok, run.stderr
    # limits_linter capped @resources(cpu=64) to the config's 1: no note about the machine
    assert "asks for cpu" not in run.stderr
    # resilient added @retry to every step: the first attempt of flaky failed and was retried
    assert "[1/flaky/2] failed, will retry (attempt 0)" in run.stderr
    end = run.artifacts("end")
    assert end["env_seen"] == "from-config"  # with_env (a StepMutator) added @environment
    assert end["rescued"] == "attempt 1"  # rescue yielded a function: it ran instead of flaky
    assert end["expensive"] == "reused"  # memo yielded {}: skipped's code did not run
    assert end["pre_label"] == "c:end"  # the class decorator's pre_step
    assert end["swallowed"] == "swallowed by post_step"  # post_step returned (None, {})


def test_with_imports_a_custom_decorator_by_module_name(stepwell_home: Path) -> None:
    out = _run("mutated_flow.py", "run", "--with", "mydecorators.stopwatch", home=stepwell_home)
    assert out.returncode == 0, out.stderr
    run = run_flow(CUSTOM / "mutated_flow.py", "--with", "mydecorators.stopwatch",
                   home=stepwell_home)  # fmt: skip
    assert run.ok, run.stderr
    assert {"start", "skipped", "end"} <= set(run.artifacts("end")["timings"])


def test_the_baseflow_pattern(stepwell_home: Path, tmp_path: Path) -> None:
    run = run_flow(CUSTOM / "composed_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    start = run.artifacts("start")
    assert start["project_seen"] == ("shared_tools", "user.tester")  # @project from a config
    assert start["env_seen"] == "composed" and start["value"] == 42
    assert "asks for cpu" not in run.stderr  # the inherited linter capped cpu=8 to 1
    roomy = tmp_path / "roomy.toml"
    roomy.write_text('name = "shared_tools"\n\n[limits]\ncpu = 64\n')
    again = run_flow(CUSTOM / "composed_flow.py", home=stepwell_home,
                     command=("--config", "limits", str(roomy), "run"))  # fmt: skip
    assert again.ok, again.stderr
    if (os.cpu_count() or 1) < 8:  # the positive control: uncapped, the machine is too small
        assert "Note: step 'start' asks for cpu=8" in again.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuch.deco", "Cannot import 'nosuch' for decorator 'nosuch.deco'"),
        ("mydecorators.nothing", "Module 'mydecorators' has no decorator 'nothing'"),
        ("bogus", "No decorator named 'bogus'. Known: batch, cache, card, catch"),
    ],
)
def test_a_with_naming_nothing_usable_is_explained(
    stepwell_home: Path, spec: str, message: str
) -> None:
    out = _run("mutated_flow.py", "run", "--with", spec, home=stepwell_home)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_a_mutator_adding_a_parameter_is_refused_with_a_reason(
    stepwell_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "param_mutator_flow.py"
    flow.write_text(
        "from stepwell import FlowMutator, FlowSpec, Parameter, step\n\n"
        "class adds(FlowMutator):\n"
        "    def pre_mutate(self, mutable_flow):\n"
        "        mutable_flow.add_parameter('extra', Parameter('extra', default=1))\n\n"
        "@adds\n"
        "class ParamMutatorFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n"
        "if __name__ == '__main__':\n"
        "    ParamMutatorFlow()\n"
    )
    run = run_flow(flow, home=stepwell_home)
    assert not run.ok and run.run_id is None
    assert "mutators cannot add or remove parameters yet" in run.stderr
    assert json.dumps("extra") in run.stderr or "'extra'" in run.stderr


def test_a_mutator_adds_a_flow_decorator_and_removes_a_step_one(
    stepwell_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "reshaped_flow.py"
    flow.write_text(
        "import os\n"
        "from stepwell import FlowMutator, FlowSpec, current, environment, step\n\n"
        "class reshape(FlowMutator):\n"
        "    def pre_mutate(self, mutable_flow):\n"
        "        mutable_flow.add_decorator('project', deco_kwargs={'name': 'reshaped'})\n\n"
        "    def mutate(self, mutable_flow):\n"
        "        start = mutable_flow.start\n"
        "        assert [s[0] for s in start.decorator_specs] == ['environment']\n"
        "        assert start.remove_decorator('environment')\n"
        "        assert not start.remove_decorator('environment')\n\n"
        "@reshape\n"
        "class ReshapedFlow(FlowSpec):\n"
        "    @environment(vars={'GONE': '1'})\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.gone = os.environ.get('GONE')\n"
        "        self.project = current.project_name\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n"
        "if __name__ == '__main__':\n"
        "    ReshapedFlow()\n"
    )
    run = run_flow(flow, home=stepwell_home)
    assert run.ok, run.stderr
    start = run.artifacts("start")
    assert start["gone"] is None  # the mutator removed @environment
    assert start["project"] == "reshaped"  # and added @project


def test_show_lists_the_mutators_next_to_the_decorators_as_written(stepwell_home: Path) -> None:
    out = _run("mutated_flow.py", "show", home=stepwell_home)
    assert out.returncode == 0, out.stderr
    assert "Mutators (applied when a run starts; the steps below are as written):" in out.stdout
    assert "    @resilient(times=1)" in out.stdout and "    @limits_linter()" in out.stdout
    start = out.stdout[out.stdout.index("Step start") :]
    assert start.splitlines()[1:3] == [
        "    @with_env(value=limits.tag)",
        "    @resources(cpu=64, gpu=None, memory=4096, disk=None, shared_memory=None)",
    ]
