"""The strict validator finds what a cluster would refuse (so the other tests can fail)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from argo_helpers import SCHEMA_FILE, SHAPES, compile_file, schema, template

from stepwell.testing.argo_schema import ArgoSchema, pod_of, validate_pod


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    (document,) = compile_file(SHAPES / "foreach_flow.py")
    return document


def test_the_schema_file_is_there() -> None:
    assert SCHEMA_FILE.is_file(), f"copy Argo's schema.json to {SCHEMA_FILE}"


def test_an_unknown_key_anywhere_is_an_error(doc: dict[str, Any]) -> None:
    bad = copy.deepcopy(doc)
    bad["spec"]["templates"][0]["dag"]["tasks"][1]["withParams"] = "[]"
    (error,) = schema().errors(bad)
    assert "withParams" in error and error.startswith("spec/templates/0/dag/tasks/1")
    bad = copy.deepcopy(doc)
    bad["metadata"]["label"] = {}
    assert schema().errors(bad)


def test_wrong_types_are_errors_and_int_or_string_takes_both(doc: dict[str, Any]) -> None:
    bad = copy.deepcopy(doc)
    template(bad, "square")["retryStrategy"] = {"limit": 2, "backoff": {"duration": 60}}
    assert any("duration" in e for e in schema().errors(bad))
    good = copy.deepcopy(doc)
    template(good, "square")["retryStrategy"] = {"limit": 2}
    assert schema().errors(good) == []
    template(good, "square")["retryStrategy"] = {"limit": "2", "backoff": None}  # null: absent
    assert schema().errors(good) == []


def test_a_sensor_submitting_a_bad_workflow_is_an_error() -> None:
    sensor: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Sensor",
        "metadata": {"name": "s"},
        "spec": {"triggers": [{"template": {"name": "t", "argoWorkflow": {
            "operation": "submit",
            "source": {"resource": {"kind": "Workflow", "metadata": {}, "spek": {}}},
        }}}]},
    }  # fmt: skip
    assert any("spek" in e for e in schema().errors(sensor))
    assert schema().errors({"kind": "Pod"}) == ["kind 'Pod' is not one of WorkflowTemplate, "
                                                "CronWorkflow, Workflow, Sensor"]  # fmt: skip


def test_a_missing_schema_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"api/jsonschema/schema\.json"):
        ArgoSchema(tmp_path / "nope.json")


def test_pods_are_checked_strictly(doc: dict[str, Any]) -> None:
    pod = pod_of(template(doc, "square"))
    validate_pod(pod)
    pod["spec"]["containers"][0]["imagePullPolicie"] = "Always"
    with pytest.raises(Exception, match="imagePullPolicie"):
        validate_pod(pod)
