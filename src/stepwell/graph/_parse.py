"""Read one step function's source with ``ast``: signature, docstring and its ``self.next``.

Nothing runs: the function object only tells where its source is. Problems
in the ``self.next(...)`` call itself become findings on the node, so that a
flow with several mistakes reports them all.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
from collections.abc import Callable, Iterator
from typing import Any

from stepwell.exceptions import FlowDefinitionError
from stepwell.flow import RESERVED_ATTRIBUTES
from stepwell.graph._findings import Finding
from stepwell.graph._nodes import StepNode

_CODE_PREFIX = re.compile(r"^([a-z-]+)::")
NEXT_KEYWORDS = ("foreach", "condition", "num_parallel")
_Func = ast.FunctionDef | ast.AsyncFunctionDef


def _collect_defs(body: list[ast.stmt], found: dict[tuple[str, int], ast.AST]) -> None:
    """Index every class and function by (name, first line), visiting statements only."""
    for item in body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([item.lineno, *(d.lineno for d in item.decorator_list)])
            found[(item.name, first)] = item
        for attr in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(item, attr, None)
            if isinstance(inner, list):
                _collect_defs([x for x in inner if isinstance(x, ast.stmt)], found)
            if attr == "handlers" and isinstance(inner, list):
                for handler in inner:
                    _collect_defs(handler.body, found)


def read_step(name: str, func: Callable[..., Any], sources: SourceIndex) -> StepNode:
    """A node filled with what the source of ``func`` says (graph fields left empty)."""
    func_def, file = sources.function(name, func)
    node = StepNode(
        name=name,
        args=tuple(a.arg for a in [*func_def.args.posonlyargs, *func_def.args.args]),
        doc=ast.get_docstring(func_def) or "",
        file=file,
        line=func_def.lineno,
    )
    reserved = tuple(_reserved_assignments(node, func_def))
    tail = func_def.body[-1]
    call = _next_call(tail.value) if isinstance(tail, ast.Expr) else None
    if call is None:
        node.next_line = _stray_next_line(func_def)
        node.parse_issues = reserved
        return node
    node.next_line = call.lineno
    issues: list[str] = []
    _read_call(node, call, issues)
    node.parse_issues = (*reserved, *(_malformed(node, text) for text in issues))
    return node


def _reserved_assignments(node: StepNode, func_def: _Func) -> Iterator[Finding]:
    """``self.next = ...`` and the like: a finding per assignment to a reserved attribute."""
    for item in ast.walk(func_def):
        targets: list[ast.expr] = []
        if isinstance(item, ast.Assign):
            targets = list(item.targets)
        elif isinstance(item, (ast.AugAssign, ast.AnnAssign)):
            targets = [item.target]
        elif isinstance(item, ast.Delete):
            targets = list(item.targets)
        elif (
            isinstance(item, ast.Call)
            and isinstance(item.func, ast.Name)
            and item.func.id in ("setattr", "delattr")
            and len(item.args) >= 2
            and isinstance(item.args[0], ast.Name)
            and item.args[0].id == "self"
            and isinstance(item.args[1], ast.Constant)
            and item.args[1].value in RESERVED_ATTRIBUTES
        ):
            yield _reserved(node, str(item.args[1].value), item.lineno)
            continue
        for target in targets:
            for part in ast.walk(target):
                if (
                    isinstance(part, ast.Attribute)
                    and isinstance(part.value, ast.Name)
                    and part.value.id == "self"
                    and part.attr in RESERVED_ATTRIBUTES
                    and isinstance(part.ctx, (ast.Store, ast.Del))
                ):
                    yield _reserved(node, part.attr, part.lineno)


def _reserved(node: StepNode, name: str, line: int) -> Finding:
    return Finding(
        "reserved-attribute",
        f"assigns self.{name}, which is part of the flow's API "
        f"({', '.join(sorted(RESERVED_ATTRIBUTES))}); an artifact cannot take that name.",
        node.file,
        line,
        node.name,
        f"Store the value under another name, e.g. self.{name}_value.",
    )


def _malformed(node: StepNode, text: str) -> Finding:
    """``text`` is ``"[code::]problem|fix"``; the code defaults to malformed-next."""
    code = "malformed-next"
    match = _CODE_PREFIX.match(text)
    if match:
        code, text = match.group(1), text[match.end() :]
    problem, _, fix = text.rpartition("|")
    return Finding(code, problem, node.file, node.next_line, node.name, fix)


class SourceIndex:
    """Source files parsed once per graph build; functions found by name and first line."""

    def __init__(self) -> None:
        self._defs: dict[str, dict[tuple[str, int], ast.AST]] = {}

    def _index(self, file: str) -> dict[tuple[str, int], ast.AST]:
        if file not in self._defs:
            text = "".join(linecache.getlines(file))
            found: dict[tuple[str, int], ast.AST] = {}
            if text:
                _collect_defs(ast.parse(text, file).body, found)
            self._defs[file] = found
        return self._defs[file]

    def function(self, name: str, func: Callable[..., Any]) -> tuple[_Func, str]:
        """The ``def`` of step ``name`` and its file; FlowDefinitionError when unreadable."""
        code = getattr(func, "__code__", None)
        file = code.co_filename if code is not None else "<unknown>"
        found = self._index(file).get((func.__name__, code.co_firstlineno)) if code else None
        if not isinstance(found, _Func):
            raise FlowDefinitionError(
                f"Cannot read the source of step '{name}' (defined in {file}): stepwell "
                "builds the flow's graph from its source code, which is not available for "
                "code typed in an interactive session. Define the flow in a .py file.",
                step=name,
            )
        return found, file

    def class_line(self, cls: type) -> int | None:
        """Line of ``class <cls>`` in its module's file (the first one of that name)."""
        module = inspect.getmodule(cls)
        file = getattr(module, "__file__", None)
        if not file:
            return None
        lines = [k[1] for k, v in self._index(file).items() if k[0] == cls.__name__]
        return min(lines) if lines else None


def _next_call(expr: ast.expr) -> ast.Call | None:
    if not isinstance(expr, ast.Call):
        return None
    target = expr.func
    is_next = (
        isinstance(target, ast.Attribute)
        and target.attr == "next"
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    )
    return expr if is_next else None


def _stray_next_line(func_def: _Func) -> int:
    """Line of a ``self.next`` call that is not the last statement (0 when there is none)."""
    for item in ast.walk(func_def):
        if isinstance(item, ast.Call) and _next_call(item) is not None:
            return item.lineno
    return 0


def _step_ref(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return expr.attr if expr.value.id == "self" else None
    return None


def _read_call(node: StepNode, call: ast.Call, issues: list[str]) -> None:
    keywords: dict[str, ast.expr] = {}
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in NEXT_KEYWORDS:
            shown = "**" + ast.unparse(kw.value) if kw.arg is None else kw.arg
            issues.append(
                f"self.next() has no argument '{shown}'.|Use only "
                f"{', '.join(k + '=' for k in NEXT_KEYWORDS)} after the steps."
            )
        else:
            keywords[kw.arg] = kw.value
    if len(keywords) > 1:
        issues.append(
            f"self.next() combines {' and '.join(k + '=' for k in keywords)}.|"
            "Use one of foreach=, condition= or num_parallel= per transition."
        )
    if len(call.args) == 1 and isinstance(call.args[0], ast.Dict):
        _read_switch(node, call.args[0], keywords, issues)
    else:
        _read_steps(node, call.args, keywords, issues)


def _read_steps(
    node: StepNode, args: list[ast.expr], keywords: dict[str, ast.expr], issues: list[str]
) -> None:
    steps: list[str] = []
    for arg in args:
        ref = _step_ref(arg)
        if ref is None:
            issues.append(
                f"self.next() takes steps as self.<step>, got '{ast.unparse(arg)}'.|"
                "Name each next step as an attribute of self, e.g. self.next(self.train)."
            )
        elif ref in steps:
            issues.append(f"self.next() names step '{ref}' twice.|Name each step once.")
        else:
            steps.append(ref)
    node.out_steps = tuple(steps)
    if not args:
        issues.append("self.next() names no step.|Name the next step, e.g. self.next(self.end).")
    node.transition = "split" if len(steps) > 1 else "linear"
    if "condition" in keywords:
        issues.append(
            "self.next(..., condition=...) needs a dict of cases as its only step argument.|"
            "Write a switch as self.next({'a': self.a, 'b': self.b}, condition='var')."
        )
    if "foreach" in keywords:
        _read_foreach(node, keywords["foreach"], issues)
    if "num_parallel" in keywords:
        _read_num_parallel(node, keywords["num_parallel"], issues)


def _one_target(node: StepNode, what: str, issues: list[str]) -> None:
    if len(node.out_steps) != 1:
        issues.append(
            f"self.next(..., {what}=...) names {len(node.out_steps)} steps; it takes exactly one.|"
            f"Pass a single step, e.g. self.next(self.body, {what}=...)."
        )


def _read_foreach(node: StepNode, value: ast.expr, issues: list[str]) -> None:
    node.transition = "foreach"
    _one_target(node, "foreach", issues)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        node.foreach_var = value.value
    else:
        issues.append(
            f"foreach={ast.unparse(value)} is not a string literal.|"
            "Name the artifact to iterate over as a literal string, e.g. foreach='items'."
        )


def _read_num_parallel(node: StepNode, value: ast.expr, issues: list[str]) -> None:
    node.transition = "parallel"
    _one_target(node, "num_parallel", issues)
    if isinstance(value, ast.Constant) and type(value.value) is int:
        node.num_parallel = value.value
        if value.value < 1:
            issues.append(f"num_parallel={value.value} must be at least 1.|Start 1 or more tasks.")
    else:
        node.num_parallel = ast.unparse(value)


def _read_switch(
    node: StepNode, cases: ast.Dict, keywords: dict[str, ast.expr], issues: list[str]
) -> None:
    node.transition = "switch"
    for key, value in zip(cases.keys, cases.values, strict=True):
        ref = _step_ref(value)
        if key is None or ref is None:
            issues.append(
                f"switch case '{ast.unparse(value)}' is not of the form 'key': self.<step>.|"
                "Map each case value to a step, e.g. {'a': self.a, 'b': self.b}."
            )
            continue
        label = str(key.value) if isinstance(key, ast.Constant) else ast.unparse(key)
        node.switch_cases[label] = ref
    node.out_steps = tuple(dict.fromkeys(node.switch_cases.values()))
    for other in ("foreach", "num_parallel"):
        if other in keywords:
            issues.append(f"a switch cannot take {other}=.|Remove {other}= from the switch.")
    if len(node.switch_cases) < 2:
        issues.append(
            f"switch-too-few-cases::the switch has {len(node.switch_cases)} case(s); "
            "a switch needs at least two.|Add another case, or use a plain "
            "self.next(self.<step>) for a single successor."
        )
    condition = keywords.get("condition")
    if condition is None:
        issues.append(
            "switch-no-condition::the switch self.next({...}) has no condition=.|"
            "Name the artifact whose value picks the case, e.g. condition='mode'."
        )
    elif isinstance(condition, ast.Constant) and isinstance(condition.value, str):
        node.condition = condition.value
    else:
        issues.append(
            f"condition={ast.unparse(condition)} is not a string literal.|"
            "Name the artifact that picks the case as a literal string, e.g. condition='mode'."
        )
