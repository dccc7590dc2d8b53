"""``python flow.py argo-workflows ...`` as a user runs it, and the Deployer's Argo target.

No cluster exists here: ``create --only-json`` must work without one, and every
command that needs one must say so in one message, without a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stepwell.testing.argo_schema import ArgoSchema

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows"
SHAPES = HERE.parent / "flows" / "shapes"
NO_CLUSTER = (
    "argo-workflows {command} needs a Kubernetes cluster: no kubeconfig found (KUBECONFIG or "
    "~/.kube/config). Use `argo-workflows create --only-json` to get the manifests."
)


@pytest.fixture
def env(tmp_path: Path, stepwell_home: Path) -> dict[str, str]:
    """A private home, store and no kubeconfig."""
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "STEPWELL_HOME": str(stepwell_home), "HOME": str(home),
            "KUBECONFIG": str(tmp_path / "no-such-kubeconfig")}  # fmt: skip


def _copy(source: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(source, folder / source.name))


def _flow(flow: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(flow), *args], env=env, cwd=flow.parent,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_create_only_json_prints_valid_documents_and_stores_the_code(
    tmp_path: Path, env: dict[str, str], stepwell_home: Path
) -> None:
    flow = _copy(SHAPES / "nested_foreach_flow.py", tmp_path / "project")
    done = _flow(flow, "argo-workflows", "create", "--only-json", "--image", "acme/app:1",
                 "--namespace", "ml", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    documents = json.loads(done.stdout)
    schema = ArgoSchema(HERE / "argo-workflows-schema.json")
    for document in documents:
        schema.validate(document)
    (template,) = documents
    assert template["metadata"]["namespace"] == "ml"
    key = template["metadata"]["annotations"]["stepwell.dev/code-package"]
    containers = [t["container"] for t in template["spec"]["templates"] if "container" in t]
    for container in containers:
        argv = container["command"]
        assert container["image"] == "acme/app:1"
        if "task" in argv:
            assert argv[argv.index("--package") + 1] == key
            assert argv[argv.index("--flow") + 1] == "nested_foreach_flow.py"
        env_vars = {e["name"]: e["value"] for e in container["env"]}
        assert env_vars["STEPWELL_DATASTORE"] == "local"
    # the package is in the datastore: a task can unpack it
    from stepwell.config import load_settings
    from stepwell.store import open_content_store

    store = open_content_store(load_settings(env=env).datastore_url)
    assert len(bytes(store.load_blob(key, context="test"))) > 0
    assert "shared S3 datastore" in done.stderr and "PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr


def test_create_only_json_on_a_project_branch(tmp_path: Path, env: dict[str, str]) -> None:
    flow = _copy(FLOWS / "argo_project_flow.py", tmp_path / "project")
    done = _flow(flow, "--branch", "exp1", "argo-workflows", "create", "--only-json", env=env)
    assert done.returncode == 0, done.stderr
    names = [d["metadata"]["name"] for d in json.loads(done.stdout)]
    assert names == ["fraud-test-exp1-projectflow"] * 2


@pytest.mark.parametrize(
    "args",
    [["create"], ["trigger"], ["trigger", "--param", "alpha=1"], ["list-runs"], ["delete"]],
    ids=lambda a: " ".join(a),
)
def test_without_a_cluster_each_command_says_so_once(
    tmp_path: Path, env: dict[str, str], args: list[str]
) -> None:
    flow = _copy(SHAPES / "linear_flow.py", tmp_path / "project")
    done = _flow(flow, "argo-workflows", *args, env=env)
    assert done.returncode == 1
    assert NO_CLUSTER.format(command=args[0]) in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (Path(env["STEPWELL_HOME"]) / "objects").exists()  # nothing stored first


def test_deployer_create_gives_the_documents_and_trigger_needs_a_cluster(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from stepwell import Deployer
    from stepwell.deploy.argo._cluster import ClusterUnavailable

    flow = _copy(FLOWS / "argo_triggered_flow.py", tmp_path / "project")
    deployed = (
        Deployer(str(flow), env=env)
        .argo_workflows(image="acme/app:2")
        .create(only_json=True, tags=["nightly"])
    )
    assert deployed.name == "triggeredflow" and deployed.flow_name == "TriggeredFlow"
    kinds = [d["kind"] for d in deployed.documents]
    assert kinds == ["WorkflowTemplate", "Sensor"]
    start = _container(deployed.documents[0], "start")
    assert start["image"] == "acme/app:2"
    assert start["command"][start["command"].index("--tag") + 1] == "nightly"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", env["KUBECONFIG"])
        patch.setenv("HOME", env["HOME"])
        with pytest.raises(ClusterUnavailable, match="argo-workflows trigger needs a Kubernetes"):
            deployed.trigger(day="2026-12-05")


def _container(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)["container"]


def test_a_cluster_that_does_not_answer_is_one_message(tmp_path: Path, env: dict[str, str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: me, namespace: ml}}]\n"
        "users: [{name: me, user: {token: x}}]\n"
    )
    flow = _copy(SHAPES / "linear_flow.py", tmp_path / "project")
    done = _flow(flow, "argo-workflows", "list-runs", env={**env, "KUBECONFIG": str(kubeconfig)})
    assert done.returncode == 1
    assert "argo-workflows list-runs: the cluster cannot be reached" in done.stderr
    assert "namespace 'ml'" in done.stderr and "Traceback" not in done.stderr
