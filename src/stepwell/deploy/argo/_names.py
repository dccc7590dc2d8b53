"""Kubernetes names for a flow's resources, steps and parameters: valid, short and stable.

A Kubernetes object name or label value (and an Argo template or task name)
is a DNS-1123 label: lowercase letters, digits and ``-``, starting and ending
with a letter or digit, at most 63 characters. The mappings here depend only
on the name they are given, so the same flow always compiles to the same
names:

- a step ``train_model`` is ``train-model``. A step name that this does not
  map one-to-one (capitals, leading/trailing or doubled ``_``) or that is too
  long gets a suffix of 6 hex digits of a hash of the original name, so two
  steps never share a name: ``Train`` -> ``train-3f2a9c``.
- a deployment ``project.branch.FlowName`` is ``project-branch-flowname``,
  hashed the same way only when it must be shortened.

:func:`check_unique` refuses the rare clash left (a step ``loop_again`` next
to the recursion task of a loop on ``loop``), naming both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from stepwell.exceptions import ConfigError

#: Longest Kubernetes name (a DNS-1123 label).
MAX_NAME = 63
#: Longest step name, so that "dag-foreach-<step>-again" still fits in 63 characters.
MAX_STEP = 40
#: Longest resource name: a CronWorkflow's name must leave Argo room for a suffix.
MAX_RESOURCE = 52

_CLEAN_STEP = re.compile(r"^[a-z0-9](?:[a-z0-9_]*[a-z0-9])?$")
_INVALID = re.compile(r"[^a-z0-9-]+")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=3).hexdigest()


def _sanitize(text: str) -> str:
    """Lowercase, anything but letters and digits as ``-``, no ``-`` at either end."""
    return _INVALID.sub("-", text.lower().replace("_", "-")).strip("-")


def _shorten(name: str, original: str, limit: int) -> str:
    """``name`` cut to ``limit`` characters, ending in a hash of ``original``."""
    head = name[: limit - 7].rstrip("-")
    return f"{head}-{_digest(original)}" if head else f"x-{_digest(original)}"


def step_name(step: str) -> str:
    """A step's Kubernetes name: ``train_model`` -> ``train-model`` (see module docstring)."""
    if _CLEAN_STEP.match(step) and len(step) <= MAX_STEP:
        return step.replace("_", "-")
    return _shorten(_sanitize(step), step, MAX_STEP)


def resource_name(deployment: str, limit: int = MAX_RESOURCE) -> str:
    """The name of a deployment's WorkflowTemplate, CronWorkflow and Sensor."""
    name = _sanitize(deployment) or "flow"
    if len(name) <= limit:
        return name
    return _shorten(name, deployment, limit)


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value (63 characters of ``[A-Za-z0-9._-]``)."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    if len(value) > MAX_NAME:
        value = f"{value[: MAX_NAME - 7].rstrip('-._')}-{_digest(text)}"
    return value


def check_unique(names: Iterable[tuple[str, str]], where: str) -> None:
    """Refuse two things (``(name, what it is)`` pairs) that got the same name in ``where``."""
    seen: dict[str, str] = {}
    for name, what in names:
        if name in seen and seen[name] != what:
            raise ConfigError(
                f"Argo Workflows: {seen[name]} and {what} would both be named {name!r} in "
                f"{where}. Rename one of the steps."
            )
        seen[name] = what
