"""Each lint check on its fixture flow: code, message, fix, file and line."""

from __future__ import annotations

import pytest

from conftest import LINT, FlowFactory, marked_lines
from stepwell.exceptions import FlowDefinitionError, LintError
from stepwell.flow import FlowSpec, load_flow_class, step
from stepwell.graph import Finding, build_graph, check_flow, lint

# finding code (= fixture file name): (step, message fragment, fix fragment)
CHECKS: dict[str, tuple[str, str, str]] = {
    "reserved-name": ("merge_artifacts", "'merge_artifacts' is a reserved name", "Rename the step"),
    "reserved-attribute": ("start", "assigns self.index, which is part of", "self.index_value"),
    "invalid-name": ("Train", "not a valid step name", "e.g. 'train'"),
    "missing-start": ("start", "MissingStartFlow has no start step", "@step(start=True)"),
    "duplicate-start": ("begin", "second start step (the first is 'start')", "Keep one start"),
    "missing-end": ("end", "MissingEndFlow has no end step", "@step(end=True)"),
    "duplicate-end": ("stop", "second end step (the first is 'done')", "Keep one end step"),
    "start-has-incoming": ("again", "goes to the start step 'start'", "Point to another step"),
    "end-has-transition": ("end", "the end step calls self.next()", "Remove the self.next"),
    "end-is-join": ("end", "the end step takes 'inputs'", "def end(self):"),
    "missing-self": ("middle", "takes no 'self' argument", "def middle(self):"),
    "too-many-args": ("join", "takes 3 arguments (self, inputs, extra)", "def join(self, inputs):"),
    "join-and-split": ("join", "both a join (it takes 'inputs') and a split", "Add a step after"),
    "join-missing-inputs": ("join", "split 'start' meet here", "def join(self, inputs):"),
    "missing-next": ("work", "has no self.next(...) as its last statement", "self.next(self.end)"),
    "malformed-next": ("start", "foreach=name is not a string literal", "foreach='items'"),
    "unknown-step": ("start", "'trian', but UnknownStepFlow has no step", "Did you mean 'train'?"),
    "cycle": ("b", "goes back to step 'a', making a cycle", "Only a switch may loop back"),
    "unreachable": ("orphan", "cannot be reached from the start step", "self.next(self.orphan)"),
    "end-before-join": ("start", "reaches the end step before it is joined", "Add a join step"),
    "join-wrong-paths": ("join", "3 path(s) (a_x, a_y, b), but split 'start' opened 2", "switch"),
    "join-unrelated-splits": ("join", "joins paths from unrelated splits", "its own join"),
    "join-without-split": ("join", "no split precedes it", "Remove the 'inputs' argument"),
    "empty-foreach": ("start", "foreach goes straight into its join 'join'", "Add a step between"),
    "switch-too-few-cases": ("start", "the switch has 1 case(s)", "Add another case"),
    "switch-no-condition": ("start", "has no condition=", "condition='mode'"),
    "switch-into-join": ("right", "goes straight into join step 'join'", "re-converge on one step"),
    "num-parallel-without-parallel": ("start", "not decorated with @parallel", "Add @parallel"),
    "parallel-without-num-parallel": ("train", "goes to it without num_parallel", "num_parallel=N"),
    "unbalanced-split": ("after", "reached from different split levels", "Close every split"),
    "loop-crosses-split": ("body", "loops back to 'prepare' across a split", "the same split"),
}  # fmt: skip


def test_every_fixture_has_a_check_and_back() -> None:
    fixtures = {p.stem for p in LINT.glob("*.py")} - {"several_errors"}
    assert fixtures == set(CHECKS)


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_lint_check(code: str) -> None:
    path = LINT / f"{code}.py"
    (line, _), *others = marked_lines(path)
    assert not others, "one marked line per fixture"
    findings = lint(build_graph(load_flow_class(path)))
    assert [f.code for f in findings] == [code], [str(f) for f in findings]
    finding = findings[0]
    step_name, message, fix = CHECKS[code]
    assert (finding.file, finding.line, finding.step) == (str(path), line, step_name)
    assert message in finding.message
    assert fix in finding.fix


def test_several_errors_are_all_reported() -> None:
    path = LINT / "several_errors.py"
    expected = sorted((line, code) for line, code in marked_lines(path))
    assert len(expected) == 4
    findings = lint(build_graph(load_flow_class(path)))
    assert sorted((f.line, f.code) for f in findings) == expected


def test_check_flow_raises_lint_error_with_every_finding() -> None:
    path = LINT / "several_errors.py"
    with pytest.raises(LintError) as info:
        check_flow(load_flow_class(path))
    error = info.value
    assert len(error.findings) == 4
    assert all(isinstance(f, Finding) for f in error.findings)
    rendered = error.render()
    assert rendered.startswith("The flow is not valid: 4 problems found.")
    assert f"{path}:24: step 'evaluate': self.next() names 'ned'" in rendered
    assert "Traceback" not in rendered


def test_check_flow_returns_the_graph_of_a_valid_flow() -> None:
    class Good(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    graph = check_flow(Good)
    assert [n.name for n in graph.sorted_nodes()] == ["start", "end"]


def test_finding_str_format() -> None:
    finding = Finding("unknown-step", "bad thing.", "flow.py", 7, "start", "Do this.")
    assert str(finding) == "flow.py:7: step 'start': bad thing.\n    Fix: Do this."


def test_next_call_that_is_not_the_last_statement() -> None:
    class Conditional(FlowSpec):
        @step
        def start(self):
            if True:
                self.next(self.end)
            self.done = True

        @step
        def end(self):
            pass

    findings = lint(build_graph(Conditional))
    assert [f.code for f in findings] == ["missing-next"]
    source, first = _source_lines(Conditional.start)
    call_line = first + next(i for i, t in enumerate(source) if "self.next" in t)
    assert findings[0].line == call_line
    assert f"calls self.next() on line {call_line} but not" in findings[0].message


def _source_lines(func: object) -> tuple[list[str], int]:
    import inspect

    lines, first = inspect.getsourcelines(func)  # type: ignore[arg-type]
    return lines, first


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ("self.next(self.end, bogus=1)", "has no argument 'bogus'"),
        ("self.next(self.end, foreach='x', num_parallel=2)", "combines foreach= and num_parallel="),
        ("self.next(end)", "takes steps as self.<step>, got 'end'"),
        ("self.next()", "names no step"),
        ("self.next(self.end, self.end)", "names step 'end' twice"),
        ("self.next(self.end, condition='x')", "needs a dict of cases"),
        ("self.next({'a': self.end, 'b': self.end}, condition=self.x)", "not a string literal"),
        ("self.next(self.end, num_parallel=0)", "must be at least 1"),
    ],
)
def test_malformed_next_variants(call: str, fragment: str, flow_from_source: FlowFactory) -> None:
    flow = flow_from_source(
        f"""
        class Bad(FlowSpec):
            @step
            def start(self):
                {call}

            @step
            def end(self):
                pass
        """
    )
    findings = lint(build_graph(flow))
    assert any(f.code == "malformed-next" and fragment in f.message for f in findings), [
        str(f) for f in findings
    ]


def test_non_step_method_in_next_is_named_as_such(flow_from_source: FlowFactory) -> None:
    flow = flow_from_source(
        """
        class Helper(FlowSpec):
            @step
            def start(self):
                self.next(self.helper)

            def helper(self):
                pass

            @step
            def end(self):
                pass
        """
    )
    (finding,) = lint(build_graph(flow))
    assert finding.code == "unknown-step"
    assert "a method of Helper that is not a step" in finding.message
    assert "Decorate 'helper' with @step" in finding.fix


def test_num_parallel_expression_is_kept_as_source_text(flow_from_source: FlowFactory) -> None:
    flow = flow_from_source(
        """
        class Gang(FlowSpec):
            @step
            def start(self):
                self.next(self.train, num_parallel=self.width * 2)

            @parallel
            @step
            def train(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    graph = build_graph(flow)
    assert graph["start"].num_parallel == "self.width * 2"
    assert lint(graph) == []


def test_unreadable_source_is_a_flow_definition_error() -> None:
    namespace: dict[str, object] = {"FlowSpec": FlowSpec, "step": step}
    code = "class Typed(FlowSpec):\n    @step\n    def start(self):\n        self.next(self.end)\n"
    exec(compile(code, "<stdin>", "exec"), namespace)
    with pytest.raises(FlowDefinitionError, match="Cannot read the source of step 'start'"):
        build_graph(namespace["Typed"])  # type: ignore[arg-type]
