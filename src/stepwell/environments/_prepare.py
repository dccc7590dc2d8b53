"""From a run's graph to the environments its steps run in (built before the run starts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepwell.environments._spec import EnvironmentSpec, step_environments
from stepwell.environments._store import Environment, EnvironmentStore

#: What stepwell's task worker imports, when stepwell's own metadata cannot be read.
_CORE = ("click>=8.1", "rich>=13", "blake3>=0.4", "zstandard>=0.22")


@dataclass(frozen=True)
class RuntimeRequirements:
    """What stepwell's own task worker needs in every environment, for one run.

    ``key`` (stepwell's version and the backends' extras) goes into each
    resolution's key; the requirement strings themselves are read from
    stepwell's installed metadata only when a resolution is made.
    """

    s3: bool = False
    postgres: bool = False

    @property
    def extras(self) -> tuple[str, ...]:
        return tuple(name for name, on in (("s3", self.s3), ("postgres", self.postgres)) if on)

    @property
    def key(self) -> str:
        from stepwell._version import __version__

        return f"stepwell=={__version__}" + "".join(f"+{extra}" for extra in self.extras)

    def requirements(self) -> tuple[str, ...]:
        """stepwell's requirements and those of the extras this run uses."""
        from importlib import metadata as distributions

        try:
            declared = distributions.requires("stepwell") or []
        except distributions.PackageNotFoundError:
            return _CORE
        found = []
        for line in declared:
            requirement, _, marker = line.partition(";")
            extra = marker.split("extra ==")[-1].strip(" '\"") if "extra" in marker else None
            if extra is None or extra in self.extras:
                found.append(requirement.strip())
        return tuple(found) or _CORE


def runtime_requirements(*, s3: bool = False, postgres: bool = False) -> RuntimeRequirements:
    """What every environment of a run on these backends holds besides the step's packages."""
    return RuntimeRequirements(s3=s3, postgres=postgres)


def prepare_environments(
    graph: Any,
    flow_decorators: list[Any],
    *,
    home: Path,
    runtime: RuntimeRequirements,
    say: Callable[[str], None] = lambda message: None,
) -> dict[str, Environment]:
    """Step name -> its built environment, for the steps that ask for one.

    Steps asking for the same packages and Python share one environment.
    """
    specs = step_environments(graph, flow_decorators)
    if not specs:
        return {}
    store = EnvironmentStore(home / "environments", runtime=runtime, say=say)
    by_spec: dict[EnvironmentSpec, list[str]] = {}
    by_python: dict[str | None, list[str]] = {}
    for step, spec in specs.items():
        by_spec.setdefault(spec, []).append(step)
        by_python.setdefault(spec.python, []).append(step)
    # Every Python first: a missing one is named with all the steps that ask for it,
    # before anything is resolved.
    pythons = {
        python: store.interpreter(specs[steps[0]], steps) for python, steps in by_python.items()
    }
    built: dict[str, Environment] = {}
    for spec, steps in by_spec.items():
        environment = store.ensure(spec, steps, pythons[spec.python])
        built.update(dict.fromkeys(steps, environment))
    return built
