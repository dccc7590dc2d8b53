"""The per-task half of the flow API: artifacts in, artifacts out, the recorded transition.

One :class:`StepState` is attached to the flow instance while a step runs.
Artifacts of parent tasks are read lazily through refs; at the end only what
the step could have changed is serialized again (content addressing makes a
re-save of unchanged data a no-op write, but skipping it saves the hashing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepwell.exceptions import FlowDefinitionError, MergeConflictError, MergeMissingError
from stepwell.flow import INTERNAL_PREFIX, FlowSpec, Transition
from stepwell.runtime._foreach import decode_item
from stepwell.runtime._inputs import Inputs, InputView
from stepwell.runtime._spec import TaskSpec

_MISSING = object()
_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), frozenset, range)


def _unchanged_since_load(value: Any) -> bool:
    """True when a loaded value cannot have been modified in place by the step."""
    if isinstance(value, _IMMUTABLE):
        return True
    if isinstance(value, tuple):
        return all(_unchanged_since_load(v) for v in value)
    return False  # mutable: serialized again; an unchanged value hashes to the same blob


class StepState:
    """Implements :class:`stepwell.flow.TaskState` for one task attempt."""

    def __init__(
        self,
        spec: TaskSpec,
        *,
        is_join: bool,
        load: Callable[[Any, str], Any],
        load_blob: Callable[[str], Any],
        input_refs: Callable[[str, str], dict[str, Any]],
    ) -> None:
        self.spec = spec
        self.is_join = is_join
        self._load = load
        self._load_blob = load_blob
        self._input_refs = input_refs
        self.inherited: dict[str, Any] = dict(spec.param_refs)
        if not is_join:
            self.inherited.update(spec.parent_refs)
        self.loaded: dict[str, Any] = {}
        self.reads: set[tuple[str, str]] = set()  # (name, blob key) read from parents
        self.transition: Transition | None = None
        self._inputs: Inputs | None = None
        self._foreach_values: dict[int, Any] = {}

    # -- reading ---------------------------------------------------------------------
    def has_artifact(self, name: str) -> bool:
        return name in self.inherited

    def read_artifact(self, name: str) -> Any:
        value = self.loaded.get(name, _MISSING)
        if value is _MISSING:
            if name not in self.inherited:
                raise AttributeError(f"Task {self.spec.pathspec} has no artifact '{name}'.")
            ref = self.inherited[name]
            value = self._load(ref, f"artifact '{name}' of {self.spec.pathspec}")
            self.loaded[name] = value
            self.reads.add((name, ref.key))
        return value

    # -- transitions -------------------------------------------------------------------
    def record_next(self, transition: Transition) -> None:
        if self.transition is not None:
            raise FlowDefinitionError(
                f"Step '{self.spec.step_name}' called self.next() twice; call it once, last."
            )
        self.transition = transition

    # -- foreach -----------------------------------------------------------------------
    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        return [
            (frame.index, frame.width, self._item(position))
            for position, frame in enumerate(self.spec.frames)
            if frame.kind == "foreach"
        ]

    def foreach_input(self) -> Any:
        for position in range(len(self.spec.frames) - 1, -1, -1):
            if self.spec.frames[position].kind == "foreach":
                return self._item(position)
        return None

    def _item(self, position: int) -> Any:
        if position not in self._foreach_values:
            frame = self.spec.frames[position]
            assert frame.items_key is not None
            blob = self._load_blob(frame.items_key)
            self._foreach_values[position] = decode_item(blob, frame.index)
        return self._foreach_values[position]

    # -- joins -------------------------------------------------------------------------
    def inputs(self) -> Inputs:
        if self._inputs is None:
            spec = self.spec
            views = [
                InputView(
                    f"{spec.flow_name}/{spec.run_id}/{step}/{task_id}",
                    step,
                    task_id,
                    index,
                    self._input_refs,
                    self._load_input,
                )
                for index, (step, task_id) in enumerate(
                    zip(spec.input_steps, spec.input_task_ids, strict=True)
                )
            ]
            self._inputs = Inputs(views)
        return self._inputs

    def _load_input(self, name: str, ref: Any, context: str) -> Any:
        """Load an artifact of a join's input, noting the read."""
        self.reads.add((name, ref.key))
        return self._load(ref, context)

    def merge_artifacts(
        self, flow: FlowSpec, inputs: Any, include: list[str], exclude: list[str]
    ) -> None:
        if not self.is_join:
            raise FlowDefinitionError(
                f"merge_artifacts() is called in step '{self.spec.step_name}', which is not a "
                "join; call it in a step that takes (self, inputs)."
            )
        candidates: dict[str, dict[str, Any]] = {}  # name -> {key: ref}
        for view in inputs:
            for name, ref in view._sw_artifact_refs().items():
                if name.startswith(INTERNAL_PREFIX) or name in self.spec.param_refs:
                    continue
                candidates.setdefault(name, {})[ref.key] = ref
        missing = [n for n in include if n not in candidates]
        if missing:
            raise MergeMissingError(
                f"merge_artifacts(include=...) names {', '.join(missing)}, which no input has."
            )
        names = include or [n for n in candidates if n not in exclude]
        names = [n for n in names if n not in flow.__dict__]
        conflicts = sorted(n for n in names if len(candidates[n]) > 1)
        if conflicts:
            raise MergeConflictError(
                f"Step '{self.spec.step_name}': inputs disagree on {', '.join(conflicts)}. "
                "Set these artifacts yourself before merge_artifacts(), or pass them in exclude=."
            )
        for name in names:
            self.inherited[name] = next(iter(candidates[name].values()))

    # -- writing -----------------------------------------------------------------------
    def changed_artifacts(self, flow: FlowSpec) -> dict[str, Any]:
        """Artifacts the step set or may have modified: name -> value."""
        changed: dict[str, Any] = {}
        for name, value in vars(flow).items():
            if name.startswith(INTERNAL_PREFIX):
                continue
            loaded = self.loaded.get(name, _MISSING)
            if loaded is value and name in self.inherited and _unchanged_since_load(value):
                continue
            changed[name] = value
        return changed
