"""Which switch choices lead to a task, written as Argo ``when`` clauses and expressions.

Inside one DAG template, a task runs when every switch on the way to it chose
the case leading there. A condition is a list of alternatives (any one may
hold); an alternative is a tuple of ``(switch task, chosen step)`` pairs that
must all hold, the outermost switch first, so that an expression stops at the
first choice not taken before it reads a task that never ran. ``[()]`` means
always.

Two spellings of the same condition:

- :func:`when_clause` for a task's ``when`` (Argo substitutes the
  ``{{tasks.X.outputs.parameters.chosen}}`` text, then evaluates it);
- :func:`expression` for an ``{{=...}}`` expression or an output's
  ``valueFrom.expression`` (Argo's documented way to take the output of
  whichever conditional task ran).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Choice = tuple[str, str]  # (task name of a switch, the step it must choose)
Alternative = tuple[Choice, ...]
Condition = list[Alternative]

ALWAYS: Condition = [()]


def is_always(condition: Condition) -> bool:
    return any(not alternative for alternative in condition)


def extend(condition: Condition, choice: Choice | None) -> Condition:
    """``condition`` and then ``choice`` (None: nothing more to hold)."""
    extra = (choice,) if choice is not None else ()
    return [alternative + extra for alternative in condition]


def either(conditions: Sequence[Condition]) -> Condition:
    """Any one of ``conditions``, with repeats dropped."""
    found = [alt for condition in conditions for alt in condition]
    if any(not alt for alt in found):
        return ALWAYS
    return list(dict.fromkeys(found))


def chosen_ref(task: str) -> str:
    """The ``{{...}}`` text of a switch task's choice."""
    return f"{{{{tasks.{task}.outputs.parameters.chosen}}}}"


def when_clause(condition: Condition) -> str | None:
    """``'{{tasks.s.outputs.parameters.chosen}}' == 'fast'`` (None: always)."""
    if is_always(condition):
        return None
    return _join(condition, lambda t, s: f"'{chosen_ref(t)}' == '{s}'")


def expression(condition: Condition) -> str:
    """``tasks['s'].outputs.parameters.chosen == 'fast'`` (an Argo expression)."""
    if is_always(condition):
        return "true"
    return _join(condition, lambda t, s: f"{output_expr(t, 'chosen')} == '{s}'")


def output_expr(task: str, name: str) -> str:
    """An output parameter of ``task`` in Argo's expression language (names may hold '-')."""
    return f"tasks['{task}'].outputs.parameters.{name}"


def pick(branches: Sequence[tuple[Condition, str]]) -> str:
    """``c1 ? v1 : c2 ? v2 : vN``: the value of the first branch whose condition holds.

    The last branch is taken when no other holds, so its condition is not written.
    """
    *tests, (_, last) = branches
    text = last
    for condition, value in reversed(tests):
        text = f"{expression(condition)} ? {value} : {text}"
    return text


def _join(condition: Condition, term: Callable[[str, str], str]) -> str:
    parts = [" && ".join(term(task, step) for task, step in alt) for alt in condition]
    if len(parts) == 1:
        return parts[0]
    return " || ".join(f"({part})" if " && " in part else part for part in parts)
