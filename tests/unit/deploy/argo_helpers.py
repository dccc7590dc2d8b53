"""Compile fixture flows to Argo documents, and check every document the way a cluster would.

Every document is validated against Argo's own schema with unknown keys
refused (``stepwell.testing.argo_schema``), and the pod of every container
template with ``kubernetes_validate`` (strict). The schema is the copy in
tests/deploy/; if it is missing, the tests fail (they do not skip).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from stepwell.deploy.argo import ArgoOptions, build_documents
from stepwell.flow import load_flow_class
from stepwell.testing.argo_schema import ArgoSchema, container_templates, pod_of, validate_pod

TESTS = Path(__file__).resolve().parents[2]
SCHEMA_FILE = TESTS / "deploy" / "argo-workflows-schema.json"
FLOWS = TESTS / "deploy" / "flows"
SHAPES = TESTS / "flows" / "shapes"


@functools.lru_cache(maxsize=1)
def schema() -> ArgoSchema:
    return ArgoSchema(SCHEMA_FILE)


def check(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate every document and every pod it would create; return the documents."""
    for document in documents:
        schema().validate(document)
        for template in container_templates(document):
            validate_pod(pod_of(template, document["spec"]))
    return documents


def compile_file(
    path: Path,
    *,
    branch: str | None = None,
    production: bool = False,
    configs: dict[str, Any] | None = None,
    with_decorators: tuple[str, ...] = (),
    **options: Any,
) -> list[dict[str, Any]]:
    """The checked documents of the flow in ``path``."""
    built = build_documents(
        load_flow_class(path), ArgoOptions(**options), username="tester", branch=branch,
        production=production, configs=configs, with_decorators=with_decorators,
    )  # fmt: skip
    return check(built.documents)


def spec(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document["spec"])


def template(document: dict[str, Any], name: str) -> dict[str, Any]:
    names = [t["name"] for t in document["spec"]["templates"]]
    assert names.count(name) == 1, f"no single template {name!r} among {names}"
    return next(t for t in document["spec"]["templates"] if t["name"] == name)


def task(document: dict[str, Any], dag: str, name: str) -> dict[str, Any]:
    found = [t for t in template(document, dag)["dag"]["tasks"] if t["name"] == name]
    assert len(found) == 1, f"no single task {name!r} in {dag!r}"
    return found[0]


def arguments(task_: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in task_.get("arguments", {}).get("parameters", [])}


def command(document: dict[str, Any], name: str) -> list[str]:
    return list(template(document, name)["container"]["command"])


def option_values(argv: list[str], flag: str) -> list[str]:
    """Every value given to ``flag`` in ``argv``."""
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]
