"""``Finding``: one problem the linter found, with its place in the user's file and a fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One lint finding.

    Attributes:
        code: Short kebab-case id of the check, e.g. ``"unknown-step"``.
        message: What is wrong, naming the step and the bad value.
        file: The flow's source file.
        line: The line of the offending statement (``def`` or ``self.next``).
        step: The step the finding is about.
        fix: One way to fix it.
    """

    code: str
    message: str
    file: str
    line: int
    step: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: step '{self.step}': {self.message}\n    Fix: {self.fix}"
