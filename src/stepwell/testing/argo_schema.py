"""Check Argo Workflows documents against Argo's own JSON schema, strictly, and pods offline.

``ArgoSchema(path)`` loads Argo's ``schema.json`` (argoproj/argo-workflows,
``api/jsonschema/schema.json``; path given, or ``STEPWELL_ARGO_SCHEMA``) and
tightens it the way a strict API server reads documents:

- an unknown key is an error: every object schema that lists its
  ``properties`` but leaves extra keys open gets ``additionalProperties: false``;
- ``IntOrString`` takes an integer or a string (the schema says string only;
  Argo takes both); a ``null`` value counts as absent;
- a Sensor is checked too (the schema has no ``apiVersion``/``kind`` for it),
  and the Workflow a Sensor submits (``source.resource``) is checked as a Workflow.

:func:`pod_of` turns a container template into the Pod Argo would create for
it, for ``kubernetes_validate`` (``validate_pod``) to check against a real
Kubernetes version's schema.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_ENV = "STEPWELL_ARGO_SCHEMA"
KUBERNETES_VERSION = "1.37.0"
_WF = "io.argoproj.workflow.v1alpha1."
_EVENTS = "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1."
KINDS = {
    "WorkflowTemplate": _WF + "WorkflowTemplate",
    "CronWorkflow": _WF + "CronWorkflow",
    "Workflow": _WF + "Workflow",
    "Sensor": _EVENTS + "Sensor",
}


class ArgoSchema:
    """A strict validator for Argo documents; ``errors(document)`` lists what is wrong."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        found = path if path is not None else os.environ.get(SCHEMA_ENV)
        if not found or not Path(found).is_file():
            raise FileNotFoundError(
                f"Argo's JSON schema was not found at {found!r}. Give its path (or set "
                f"{SCHEMA_ENV}); it is api/jsonschema/schema.json of argoproj/argo-workflows."
            )
        raw = json.loads(Path(found).read_text())
        self.definitions = _strict(raw["definitions"])
        import jsonschema

        self._validators = {
            kind: jsonschema.Draft202012Validator(
                {"$ref": f"#/definitions/{ref}", "definitions": self.definitions}
            )
            for kind, ref in KINDS.items()
        }

    def errors(self, document: dict[str, Any]) -> list[str]:
        """Every schema violation of ``document`` as ``path: message`` (empty: valid)."""
        kind = document.get("kind")
        if kind not in self._validators:
            return [f"kind {kind!r} is not one of {', '.join(KINDS)}"]
        found = self._validators[kind].iter_errors(without_nulls(document))
        return sorted(f"{_path(e.absolute_path)}: {e.message}" for e in found)

    def validate(self, document: dict[str, Any]) -> None:
        """Raise ValueError listing every violation of ``document``."""
        problems = self.errors(document)
        if problems:
            name = document.get("metadata", {}).get("name", "?")
            listed = "\n  ".join(problems[:20])
            raise ValueError(f"{document.get('kind')} {name!r} is not valid:\n  {listed}")


def without_nulls(value: Any) -> Any:
    """``value`` with every ``None`` entry of a mapping removed (null means absent)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def _strict(definitions: dict[str, Any]) -> dict[str, Any]:
    found = copy.deepcopy(definitions)
    for schema in _schemas(found):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    found["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    sensor = found[KINDS["Sensor"]]["properties"]
    sensor["apiVersion"] = {"const": "argoproj.io/v1alpha1", "type": "string"}
    sensor["kind"] = {"const": "Sensor", "type": "string"}
    found[_EVENTS + "K8SResource"] = {"$ref": f"#/definitions/{KINDS['Workflow']}"}
    return found


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def _path(parts: Any) -> str:
    return "/".join(str(p) for p in parts) or "(document)"


def container_templates(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The templates of a WorkflowTemplate (or a CronWorkflow's workflow) that run a pod."""
    spec = document.get("spec", {})
    spec = spec.get("workflowSpec", spec)
    return [t for t in spec.get("templates", []) if "container" in t]


def pod_of(template: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Pod (manifest) running ``template``, as Argo builds it from the template's fields."""
    spec = spec or {}
    metadata = template.get("metadata", {})
    pod_spec: dict[str, Any] = {"containers": [template["container"]], "restartPolicy": "Never"}
    for key in ("nodeSelector", "tolerations", "volumes", "activeDeadlineSeconds",
                "serviceAccountName"):  # fmt: skip
        if key in template:
            pod_spec[key] = template[key]
    for key in ("imagePullSecrets",):
        if key in spec:
            pod_spec[key] = spec[key]
    pod_metadata = {"name": template["name"], **{k: v for k, v in metadata.items() if v}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_metadata, "spec": pod_spec}


def validate_pod(pod: dict[str, Any], version: str = KUBERNETES_VERSION) -> None:
    """Check a Pod with ``kubernetes_validate`` (strict: unknown keys are errors)."""
    import kubernetes_validate

    kubernetes_validate.validate(pod, version, strict=True)
