"""@cache: skip a task whose step code, inputs and parameters match an earlier success.

Before a task of a ``@cache`` step is launched, the run computes its key
(:func:`cache_key`): SHA-256 over

- the step's code digest (:mod:`stepwell.runtime._cache_code`: the step's
  source and the flow-package code it names);
- the step's ``@cache`` attributes and those of the decorators that change
  what the code sees (``@environment``, ``@pypi``, ``@conda``, ``@secrets``);
- the blob keys (content hashes) of its inputs: the parent's artifacts, or for
  a join each input's step and artifacts, in the order of the inputs;
- where it sits: each enclosing split's kind, index and width, and for a
  foreach the key of the blob of its items (so a branch is matched by its own
  item and index, never by a sibling's);
- the blob keys of the run's parameters;
- the flow and step names, the datastore (a reused task's blobs must be
  there) and the stepwell version.

A task that ran records its key as task metadata ``cache_key``. A later task
with the same key reuses the newest successful task recorded with it
(younger than the decorator's expiry, if any): nothing runs, the earlier
task's artifacts are referred to (not copied) and its transition replayed, as
``resume`` does; the new task's ``origin_pathspec`` names the task reused and
its metadata ``cached_from`` says it came from the cache. Only tasks that
ran record a key, so a reuse never extends the life of an entry, and a
failed attempt or a @catch fallback is never reused.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepwell.runtime._cache_code import StepCode
from stepwell.runtime._resume import replayed
from stepwell.runtime._spec import TaskResult, TaskSpec

#: Bump when the key's material changes meaning: old entries then never match.
KEY_FORMAT = 1
#: Decorators whose attributes change what a step's code sees, so they enter its key.
KEYED_DECORATORS = ("cache", "environment", "pypi", "conda", "secrets")
#: Task metadata: the key of a task that ran (JSON string), and the task a reuse came from.
CACHE_KEY = "cache_key"
CACHED_FROM = "cached_from"
#: Reuses of one step reported one by one; the rest are counted in the run's last lines.
REPORTED_PER_STEP = 8
#: Task metadata of the reused task that the new one takes along (its cards).
_CARRIED_PREFIX = "card:"


def cache_key(
    spec: TaskSpec,
    *,
    code: str,
    decorators: list[str],
    inputs: list[tuple[str, dict[str, str]]] | None,
    datastore: str,
    version: str,
) -> str:
    """The key of ``spec``; ``inputs`` are a join's ``(step, {artifact: blob key})`` in order."""
    if inputs is None:  # one parent: its artifacts came with the spec
        inputs = [("", {name: ref.key for name, ref in spec.parent_refs.items()})]
    material = {
        "format": KEY_FORMAT,
        "stepwell": version,
        "flow": spec.flow_name,
        "step": spec.step_name,
        "code": code,
        "decorators": decorators,
        "inputs": [[step, sorted(keys.items())] for step, keys in inputs],
        "frames": [[f.kind, f.index, f.width, f.items_key] for f in spec.frames],
        "parameters": sorted((name, ref.key) for name, ref in spec.param_refs.items()),
        "datastore": datastore,
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    """The run's view of the cache: keys of its @cache tasks, and reuses found for them."""

    def __init__(
        self,
        metadata: Any,
        graph: Any,
        flow_cls: type,
        *,
        flow_file: str,
        datastore: str,
        version: str,
        lookup: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metadata = metadata
        self.graph = graph
        self.lookup = lookup  # --no-cache: keys are recorded, nothing is reused
        self.datastore = datastore
        self.version = version
        self._clock = clock
        root = Path(flow_file).parent if flow_file else _module_dir(flow_cls)
        self._code = StepCode(flow_cls, root)
        self._decorators: dict[str, list[str]] = {}
        self._keys: dict[tuple[str, int], str] = {}
        self.hits = 0
        self._reported: dict[str, int] = {}

    def applies(self, spec: TaskSpec) -> bool:
        """Whether ``spec`` is a task of a @cache step that runs the step's code.

        Never a @catch fallback attempt, nor a member of a @parallel gang (lint refuses
        the combination; ``--with cache`` could still put it there).
        """
        if spec.caught is not None or (spec.frames and spec.frames[-1].kind == "parallel"):
            return False
        return self.graph[spec.step_name].decorator("cache") is not None

    def key(self, spec: TaskSpec) -> str:
        """The key of ``spec`` (a join's inputs must be recorded in metadata already)."""
        found = self._keys.get(spec.key)
        if found is None:
            node = self.graph[spec.step_name]
            inputs = self._join_inputs(spec) if node.is_join else None
            found = cache_key(
                spec,
                code=self._code.digest(spec.step_name),
                decorators=self._keyed_decorators(node),
                inputs=inputs,
                datastore=self.datastore,
                version=self.version,
            )
            self._keys[spec.key] = found
        return found

    def reuse(self, spec: TaskSpec) -> TaskResult | None:
        """The result of an earlier task with ``spec``'s key, replayed; None: run it."""
        key = self.key(spec)  # a retry records it too, if it succeeds
        if not self.lookup or spec.attempt:
            return None
        deco = self.graph[spec.step_name].decorator("cache")
        expiry = deco.expire_seconds
        since = None if expiry is None else self._clock() - expiry
        source = self.metadata.find_cached_task(spec.flow_name, spec.step_name, key, since=since)
        if source is None:
            return None
        parts = (spec.flow_name, source.run_id, source.step_name, source.task_id)
        recorded = self.metadata.get_task_metadata(*parts, attempt=source.attempt)
        artifacts = self.metadata.list_artifacts(*parts, attempt=source.attempt)
        transition = json.loads(recorded.get("transition", "{}"))
        carried = {k: v for k, v in recorded.items() if k.startswith(_CARRIED_PREFIX)}
        self.hits += 1
        self._keys.pop(spec.key, None)
        return replayed(
            spec, source, artifacts, transition, at=self._clock(),
            metadata={**carried, CACHED_FROM: json.dumps(source.pathspec)},
        )  # fmt: skip

    def finished(self, spec: TaskSpec, result: TaskResult) -> None:
        """A task ran: a success records its key (in ``result.metadata``) for later runs."""
        key = self._keys.pop(spec.key, None) if self.applies(spec) else None
        if key is not None and result.ok and result.origin_pathspec is None:
            result.metadata[CACHE_KEY] = json.dumps(key)

    def report(self, reporter: Any, spec: TaskSpec, result: TaskResult) -> None:
        """Tell ``reporter`` of a reuse: a line for a step's first few, then counts only."""
        count = self._reported.get(spec.step_name, 0) + 1
        self._reported[spec.step_name] = count
        if count <= REPORTED_PER_STEP and not reporter.quiet:
            reporter.status(
                f"[{spec.run_id}/{spec.step_name}/{spec.task_id}] reused from the @cache: "
                f"{result.origin_pathspec}"
            )
        reporter.task_launched(spec)
        reporter.task_succeeded(spec, result)

    def _keyed_decorators(self, node: Any) -> list[str]:
        found = self._decorators.get(node.name)
        if found is None:
            found = sorted(
                repr(d) for d in node.decorators if getattr(d, "NAME", None) in KEYED_DECORATORS
            )
            self._decorators[node.name] = found
        return found

    def _join_inputs(self, spec: TaskSpec) -> list[tuple[str, dict[str, str]]]:
        records = self.metadata.artifacts_of_tasks(spec.flow_name, spec.run_id, spec.input_task_ids)
        return [
            (step, {name: record.key for name, record in records.get(task_id, {}).items()})
            for step, task_id in zip(spec.input_steps, spec.input_task_ids, strict=True)
        ]


def _module_dir(flow_cls: type) -> Path:
    import sys

    module = sys.modules.get(flow_cls.__module__)
    file = getattr(module, "__file__", None)
    return Path(file).parent if file else Path.cwd()
