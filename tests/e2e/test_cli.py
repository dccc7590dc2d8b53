"""The command line as a user meets it: python flow.py ... and stepwell ..."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).parents[1] / "flows"
STEPWELL = [sys.executable, "-m", "stepwell.cli"]


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=120, check=False
    )


def _flow(argv_prefix: str, flow: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if argv_prefix == "python":
        return _run(sys.executable, flow, *args)
    return _run(*STEPWELL, args[0], flow, *args[1:])


@pytest.mark.parametrize("how", ["python", "stepwell"])
def test_check_accepts_a_valid_flow(how: str) -> None:
    out = _flow(how, FLOWS / "shapes" / "branch_flow.py", "check")
    assert out.returncode == 0, out.stderr
    assert "BranchFlow" in out.stdout and "valid" in out.stdout


@pytest.mark.parametrize("how", ["python", "stepwell"])
def test_check_reports_file_line_and_fix_without_traceback(how: str) -> None:
    flow = FLOWS / "lint" / "unknown-step.py"
    line = next(i for i, text in enumerate(flow.read_text().splitlines(), 1) if "# LINT" in text)
    out = _flow(how, flow, "check")
    assert out.returncode == 1
    assert f"{flow}:{line}" in out.stderr
    assert "trian" in out.stderr and "Did you mean 'train'" in out.stderr
    assert "Traceback" not in out.stderr


def test_check_reports_every_problem_of_a_flow() -> None:
    out = _run(sys.executable, FLOWS / "lint" / "several_errors.py", "check")
    assert out.returncode == 1
    assert "4 problems found" in out.stderr


def test_run_refuses_an_invalid_flow_before_starting(tmp_path: Path) -> None:
    out = _run(sys.executable, FLOWS / "lint" / "unknown-step.py", "run")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "unknown-step.py" in out.stderr


def test_show_lists_steps_docstrings_transitions_and_parameters() -> None:
    out = _run(sys.executable, FLOWS / "shapes" / "parameters_flow.py", "show")
    assert out.returncode == 0, out.stderr
    for text in ("ParametersFlow", "start", "end", "who", "count", "ratio", "JSON"):
        assert text in out.stdout, text


def test_output_dot_is_graphviz_with_every_edge() -> None:
    out = _run(sys.executable, FLOWS / "shapes" / "branch_flow.py", "output-dot")
    assert out.returncode == 0, out.stderr
    assert out.stdout.lstrip().startswith("digraph")
    assert out.stdout.count("->") >= 5


def test_run_help_lists_the_flow_parameters() -> None:
    out = _run(sys.executable, FLOWS / "shapes" / "parameters_flow.py", "run", "--help")
    assert out.returncode == 0, out.stderr
    for option in ("--who", "--count", "--ratio", "--verbose", "--model", "--max-workers",
                   "--max-num-splits", "--tag", "--run-id-file"):  # fmt: skip
        assert option in out.stdout, option


def test_stepwell_run_runs_a_flow_file(stepwell_home: Path) -> None:
    out = _run(*STEPWELL, "run", FLOWS / "shapes" / "linear_flow.py", "--quiet")
    assert out.returncode == 0, out.stderr
    assert (stepwell_home / "stepwell.db").exists()


def test_bad_decorator_attribute_is_reported_at_its_line(tmp_path: Path) -> None:
    flow = tmp_path / "bad_decorator.py"
    flow.write_text(
        "from stepwell import FlowSpec, step, retry\n"
        "class BadFlow(FlowSpec):\n"
        "    @retry(tims=2)\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "if __name__ == '__main__':\n"
        "    BadFlow()\n"
    )
    out = _run(sys.executable, flow, "check")
    assert out.returncode == 1
    assert f"{flow}:3" in out.stderr
    assert "'tims'" in out.stderr and "times, minutes_between_retries" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_parameter_value_is_refused_before_the_run(stepwell_home: Path) -> None:
    out = _run(sys.executable, FLOWS / "shapes" / "parameters_flow.py", "run", "--count", "abc")
    assert out.returncode == 1
    assert "'count'" in out.stderr and "int" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (stepwell_home / "stepwell.db").exists()
