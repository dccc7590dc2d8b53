"""``inputs`` of a join step: one lazy view per incoming branch.

Nothing is read until an attribute is asked for: the input's artifact refs
come from metadata on first use, and only the artifact asked for is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from stepwell.exceptions import StepwellError

RefsLoader = Callable[[str, str], dict[str, Any]]  # (step, task_id) -> {name: ArtifactRef}
ValueLoader = Callable[[str, Any, str], Any]  # (name, ref, context) -> value


class InputView:
    """One input of a join: read its artifacts as attributes (``inp.score``)."""

    def __init__(
        self,
        pathspec: str,
        step: str,
        task_id: str,
        index: int,
        refs: RefsLoader,
        load: ValueLoader,
    ) -> None:
        self._sw_pathspec = pathspec
        self._sw_step = step
        self._sw_task_id = task_id
        self._sw_index = index
        self._sw_refs_loader = refs
        self._sw_load = load
        self._sw_refs: dict[str, Any] | None = None
        self._sw_cache: dict[str, Any] = {}

    def _sw_artifact_refs(self) -> dict[str, Any]:
        if self._sw_refs is None:
            self._sw_refs = self._sw_refs_loader(self._sw_step, self._sw_task_id)
        return self._sw_refs

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_sw_") or name.startswith("__"):
            raise AttributeError(name)
        if name in self._sw_cache:
            return self._sw_cache[name]
        refs = self._sw_artifact_refs()
        if name not in refs:
            known = ", ".join(sorted(n for n in refs if not n.startswith("_"))) or "none"
            raise AttributeError(
                f"Input {self._sw_pathspec} has no artifact '{name}'. Its artifacts: {known}."
            )
        value = self._sw_load(name, refs[name], f"artifact '{name}' of task {self._sw_pathspec}")
        self._sw_cache[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_sw_"):
            raise StepwellError(
                f"Inputs of a join are read-only; set self.{name} on the join step instead."
            )
        object.__setattr__(self, name, value)

    @property
    def index(self) -> int:
        return self._sw_index

    def __repr__(self) -> str:
        return f"<input {self._sw_pathspec}>"


class Inputs:
    """The inputs of a join: iterate, index (``inputs[0]``) or name a branch (``inputs.train``)."""

    def __init__(self, views: list[InputView]) -> None:
        self._views = views

    def __iter__(self) -> Iterator[InputView]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)

    def __getitem__(self, index: int) -> InputView:
        return self._views[index]

    def __getattr__(self, name: str) -> InputView:
        if name.startswith("_"):
            raise AttributeError(name)
        for view in self._views:
            if view._sw_step == name:
                return view
        steps = ", ".join(sorted({v._sw_step for v in self._views}))
        raise AttributeError(f"This join has no input from step '{name}'; its inputs: {steps}.")

    def __repr__(self) -> str:
        return f"<inputs of {len(self._views)} tasks>"
