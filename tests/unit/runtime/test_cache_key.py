"""@cache keys: what changes a step's key, and what does not."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from stepwell.flow import load_flow_class
from stepwell.runtime._cache import cache_key
from stepwell.runtime._cache_code import StepCode
from stepwell.runtime._spec import Frame, TaskSpec
from stepwell.store import ArtifactRef

_FLOW = """
import json

from stepwell import FlowSpec, Parameter, cache, step
import {helpers} as helpers

LIMIT = {limit}


def double(x):
    return 2 * clamp(x)


def clamp(x):
    return min(x, LIMIT)


def unrelated():
    return {unrelated}


class Model:
    def fit(self, x):
        return x + {fit}


class KeyFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    SCALE = {scale}

    def shift(self, x):
        return x + {shift}

    @step
    def start(self):
        self.x = {start}
        self.next(self.train)

    @cache
    @step
    def train(self):
        self.y = double(self.x) * self.SCALE + self.shift(1) + helpers.offset()
        self.model = Model().fit(self.y)
        self.text = json.dumps(self.y)
        self.next(self.end)

    @step
    def end(self):
        pass
"""

_HELPERS = """
def offset():
    return {offset}
"""

DEFAULTS = {
    "limit": 10, "unrelated": 0, "fit": 1, "scale": 3, "shift": 1, "start": 1, "offset": 5,
}  # fmt: skip
_count = itertools.count()


def _digest(tmp_path: Path, **changes: object) -> str:
    """The code digest of step 'train' of a KeyFlow written with ``changes``."""
    values = {**DEFAULTS, **changes}
    folder = tmp_path / f"variant{next(_count)}"
    folder.mkdir()
    helpers = f"cachehelp_{folder.name}_{abs(hash(str(tmp_path))) % 10**8}"
    (folder / f"{helpers}.py").write_text(_HELPERS.format(offset=values.pop("offset")))
    (folder / "keyflow.py").write_text(_FLOW.format(helpers=helpers, **values))
    flow = load_flow_class(folder / "keyflow.py")
    return StepCode(flow, folder).digest("train")


@pytest.mark.parametrize(
    "change",
    [
        {"limit": 11},  # a module constant a helper of a helper reads
        {"fit": 2},  # a method of a class of the package the step uses
        {"scale": 4},  # a class attribute read as self.SCALE
        {"shift": 2},  # a method of the flow class
        {"offset": 6},  # a function of another module of the package
    ],
    ids=["constant", "class", "class-attribute", "flow-method", "other-module"],
)
def test_a_changed_helper_changes_the_code_digest(tmp_path, change):
    assert _digest(tmp_path, **change) != _digest(tmp_path)


@pytest.mark.parametrize(
    "change", [{"unrelated": 1}, {"start": 2}], ids=["unused-function", "another-step"]
)
def test_code_the_step_does_not_name_leaves_the_digest_alone(tmp_path, change):
    assert _digest(tmp_path, **change) == _digest(tmp_path)


def test_the_digest_covers_package_code_only(tmp_path):
    _digest(tmp_path)
    folder = tmp_path / "variant-parts"
    folder.mkdir()
    (folder / "cachehelp_parts.py").write_text(_HELPERS.format(offset=5))
    values = {k: v for k, v in DEFAULTS.items() if k != "offset"}
    (folder / "keyflow.py").write_text(_FLOW.format(helpers="cachehelp_parts", **values))
    labels = [p.split("\n")[0].split(" =")[0] for p in StepCode(
        load_flow_class(folder / "keyflow.py"), folder
    ).parts("train")]  # fmt: skip
    assert labels[0] == "step train"
    assert set(labels) >= {"double", "clamp", "LIMIT", "Model", "self.SCALE", "self.shift"}
    assert "helpers.offset" in labels
    assert not any("json" in label or "next" in label for label in labels)  # library code
    assert "unrelated" not in labels and "self.end" not in labels


def _ref(key: str) -> ArtifactRef:
    return ArtifactRef(key=key, serializer="pickle", type_name="builtins.int", size=1)


def _spec(**overrides: object) -> TaskSpec:
    fields: dict[str, object] = {
        "flow_name": "KeyFlow", "run_id": "7", "step_name": "train", "task_id": "3",
        "input_task_ids": ("2",), "input_steps": ("start",),
        "parent_refs": {"x": _ref("sha-x"), "y": _ref("sha-y")},
        "param_refs": {"alpha": _ref("sha-alpha")},
    }  # fmt: skip
    fields.update(overrides)
    return TaskSpec(**fields)  # type: ignore[arg-type]


def _key(spec: TaskSpec, **overrides: object) -> str:
    fields: dict[str, object] = {
        "code": "c1", "decorators": ["@cache(...)"], "inputs": None,
        "datastore": "/home/stepwell", "version": "1.0",
    }  # fmt: skip
    fields.update(overrides)
    return cache_key(spec, **fields)  # type: ignore[arg-type]


def test_the_key_ignores_run_and_task_ids():
    assert _key(_spec()) == _key(_spec(run_id="8", task_id="30", input_task_ids=("20",)))


def test_the_key_ignores_the_order_artifacts_come_in():
    refs = {"y": _ref("sha-y"), "x": _ref("sha-x")}
    assert _key(_spec(parent_refs=refs)) == _key(_spec())


@pytest.mark.parametrize(
    "spec_change, key_change",
    [
        ({"parent_refs": {"x": _ref("sha-x2"), "y": _ref("sha-y")}}, {}),
        ({"parent_refs": {"x": _ref("sha-x")}}, {}),
        ({"param_refs": {"alpha": _ref("sha-alpha2")}}, {}),
        ({"step_name": "score"}, {}),
        ({"flow_name": "OtherFlow"}, {}),
        ({}, {"code": "c2"}),
        ({}, {"decorators": ["@cache(days=1)"]}),
        ({}, {"datastore": "s3://bucket/prefix"}),
        ({}, {"version": "1.1"}),
    ],
    ids=[
        "input",
        "fewer-inputs",
        "parameter",
        "step",
        "flow",
        "code",
        "decorator",
        "datastore",
        "version",
    ],
)
def test_what_changes_the_key(spec_change, key_change):
    assert _key(_spec(**spec_change), **key_change) != _key(_spec())


def test_each_foreach_branch_has_its_own_key():
    def branch(index: int, items_key: str = "sha-items") -> TaskSpec:
        return _spec(frames=(Frame("2", "foreach", index, 3, items_key),))

    keys = {_key(branch(i)) for i in range(3)}
    assert len(keys) == 3
    assert _key(branch(1)) == _key(branch(1))
    assert _key(branch(1, "sha-other-items")) != _key(branch(1))


def test_a_joins_key_follows_its_inputs_in_order():
    spec = _spec(step_name="join", parent_refs={}, input_task_ids=("4", "5"))
    a, b = ("left", {"v": "sha-1"}), ("right", {"v": "sha-2"})
    assert _key(spec, inputs=[a, b]) == _key(spec, inputs=[a, b])
    assert _key(spec, inputs=[a, b]) != _key(spec, inputs=[b, a])
    assert _key(spec, inputs=[a, ("right", {"v": "sha-3"})]) != _key(spec, inputs=[a, b])


def test_flow_source_that_cannot_be_read_counts_by_bytecode(tmp_path):
    namespace: dict[str, object] = {}
    # a flow without a source file, as a notebook cell may define one
    exec(
        textwrap.dedent("""
        from stepwell import FlowSpec, step
        class ExecFlow(FlowSpec):
            @step
            def start(self):
                self.x = 1
                self.next(self.end)
            @step
            def end(self):
                pass
        """),
        namespace,
    )
    code = StepCode(namespace["ExecFlow"], tmp_path)  # type: ignore[arg-type]
    assert code.parts("start")[0].startswith("step start (bytecode) ")
    assert len(code.digest("start")) == 64
