"""What a step asks for: its @pypi / @conda packages and Python, merged with the flow's.

Metaflow's merge rules: a step's ``@pypi`` packages are added to the flow's
``@pypi_base`` packages, the step's version winning for a package both name;
``python`` is the step's when given, else the base's; ``disabled=True`` (on
the step, or on the base for steps without their own) runs the step in the
run's own interpreter. ``@conda`` / ``@conda_base`` follow the same rules and
are built from PyPI under the same names (``libraries`` is ``packages``'
old name). One step cannot ask for both kinds.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from stepwell.exceptions import ConfigError

KINDS = ("pypi", "conda")
_OPERATORS = ("==", "!=", ">=", "<=", "~=", ">", "<", "===")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._,-]+\])?$")


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment request: its kind, Python version and packages (sorted)."""

    kind: str
    python: str | None
    packages: tuple[tuple[str, str], ...]
    where: str = field(default="", compare=False)  # file:line of the step (for messages)

    def requirements(self) -> list[str]:
        """The packages as requirement strings (``tomli-w==1.0.0``, ``pandas>=2``)."""
        return [requirement(name, version, self.kind) for name, version in self.packages]

    def key(self, python_version: str, runtime: str) -> str:
        """Identifies a resolution: same key, same lock (platform and interpreter included).

        ``runtime`` names what stepwell adds to every environment (its version, extras).
        """
        text = json.dumps([self.kind, python_version, self.requirements(), runtime])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def describe(self) -> str:
        packages = ", ".join(self.requirements()) or "no packages"
        python = f", python {self.python}" if self.python else ""
        return f"@{self.kind}: {packages}{python}"


def requirement(name: str, version: Any, kind: str = "pypi") -> str:
    """``name`` and a version as one requirement: a bare version pins it exactly.

    ``"2.1.0"`` is ``==2.1.0``; ``""`` is any version; a version that starts
    with an operator is kept (``">=2,<3"``). For @conda, ``"=1.2"`` (conda's
    "1.2.*") becomes ``==1.2.*``.
    """
    version = str(version or "").strip()
    if not version:
        return name
    if kind == "conda" and version.startswith("=") and not version.startswith("=="):
        return f"{name}=={version[1:]}.*"
    if version.startswith(_OPERATORS):
        return f"{name}{version}"
    return f"{name}=={version}"


def step_environments(graph: Any, flow_decorators: list[Any]) -> dict[str, EnvironmentSpec]:
    """Step name -> the environment it asks for; steps that ask for none are left out."""
    bases = {d.NAME: d for d in flow_decorators if d.NAME in ("pypi_base", "conda_base")}
    if len(bases) > 1:
        raise ConfigError(
            f"{graph.flow_name} has both @pypi_base and @conda_base; stepwell builds both "
            "from PyPI, so use one (put every package in @pypi_base).",
            location=f"{graph.file}:{graph.line}" if graph.file else None,
        )
    base = next(iter(bases.values()), None)
    found = {}
    for node in graph:
        spec = _step_spec(node, base)
        if spec is not None:
            found[node.name] = spec
    return found


def _step_spec(node: Any, base: Any) -> EnvironmentSpec | None:
    where = f"{node.file}:{node.line}" if node.file else ""
    own = [d for d in (node.decorator("pypi"), node.decorator("conda")) if d is not None]
    if len(own) > 1:
        raise ConfigError(
            f"Step '{node.name}' has both @pypi and @conda; give it one of them.", location=where
        )
    step = own[0] if own else None
    base_kind = base.NAME.removesuffix("_base") if base is not None else None
    if step is not None and base is not None and base_kind != step.NAME:
        raise ConfigError(
            f"Step '{node.name}' has @{step.NAME} but the flow has @{base.NAME}; use "
            f"@{base_kind} on the step (or @{step.NAME}_base on the flow).",
            location=where,
        )
    if step is not None and step.disabled:
        return None
    if step is None and (base is None or base.disabled):
        return None
    kind = (step or base).NAME.removesuffix("_base")
    packages = {**_packages(base, where), **_packages(step, where)}
    python = (step.python if step is not None else None) or (base.python if base else None)
    return EnvironmentSpec(kind, _python(python, node.name, where), tuple(sorted(packages.items())),
                           where)  # fmt: skip


def _packages(decorator: Any, where: str) -> dict[str, str]:
    if decorator is None:
        return {}
    merged = {**getattr(decorator, "libraries", {}), **decorator.packages}
    packages = {}
    for name, version in merged.items():
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise ConfigError(
                f"@{decorator.NAME}(packages=...): {name!r} is not a package name "
                "(letters, digits, '.', '_', '-', optionally [extras]).",
                location=where,
            )
        if version is not None and not isinstance(version, (str, int, float)):
            raise ConfigError(
                f"@{decorator.NAME}(packages=...): the version of {name!r} must be text such "
                f"as '1.2.0' or '>=1.2', got {version!r}.",
                location=where,
            )
        packages[name.strip()] = str(version or "")
    return packages


def _python(value: Any, step: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not re.fullmatch(r"3(\.\d+){0,2}", text):
        raise ConfigError(
            f"Step '{step}': python={value!r} is not a Python 3 version such as '3.11' or "
            "'3.11.7'.",
            location=where,
        )
    return text
