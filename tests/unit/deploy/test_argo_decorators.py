"""Step decorators -> retries, deadlines, resources, pod placement, env and secrets."""

from __future__ import annotations

from typing import Any

import pytest
from argo_helpers import FLOWS, SHAPES, command, compile_file, option_values, template

from stepwell.decorators._step_level import KubernetesDecorator
from stepwell.deploy.argo._pod import node_selector
from stepwell.exceptions import ConfigError
from stepwell.graph import StepNode


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    (document,) = compile_file(FLOWS / "argo_decorated_flow.py", image="registry/app:2")
    return document


def test_retry_is_argo_retry_with_the_delay_as_backoff(doc: dict[str, Any]) -> None:
    start = template(doc, "start")
    assert start["retryStrategy"] == {
        "limit": 4, "retryPolicy": "Always", "backoff": {"duration": "90s"}
    }  # fmt: skip
    assert option_values(command(doc, "start"), "--attempt") == ["{{retries}}"]
    # Metaflow's default @retry: 3 times, 2 minutes apart
    assert template(doc, "end")["retryStrategy"] == {
        "limit": 3, "retryPolicy": "Always", "backoff": {"duration": "120s"}
    }  # fmt: skip


def test_without_retry_the_only_attempt_runs_and_catch_applies_there(doc: dict[str, Any]) -> None:
    assert "retryStrategy" not in template(doc, "train-model")
    assert option_values(command(doc, "train-model"), "--attempt") == ["0"]


def test_timeout_is_the_templates_deadline(doc: dict[str, Any]) -> None:
    assert template(doc, "start")["activeDeadlineSeconds"] == 605
    assert "activeDeadlineSeconds" not in template(doc, "end")


def test_resources_are_requests_with_gpus_as_limits(doc: dict[str, Any]) -> None:
    container = template(doc, "start")["container"]
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "8192M", "ephemeral-storage": "10240M"},
        "limits": {"nvidia.com/gpu": "1"},
    }
    assert container["image"] == "registry/app:2"


def test_resources_raise_what_kubernetes_asks_for(doc: dict[str, Any]) -> None:
    # @resources(cpu=3, memory=1024) with @kubernetes(cpu=1, memory=2048): the larger of each
    requests = template(doc, "end")["container"]["resources"]["requests"]
    assert requests == {"cpu": "3", "memory": "2048M", "ephemeral-storage": "10240M"}


def test_kubernetes_decorator_places_and_shapes_the_pod(doc: dict[str, Any]) -> None:
    train = template(doc, "train-model")
    container = train["container"]
    assert container["image"] == "ghcr.io/acme/train:1"
    assert container["imagePullPolicy"] == "Always"
    wanted = {"cpu": "4", "memory": "2048M", "ephemeral-storage": "20000M"}
    assert container["resources"] == {
        "requests": wanted, "limits": {**wanted, "amd.com/gpu": "2"}  # qos="Guaranteed"
    }  # fmt: skip
    assert train["nodeSelector"] == {"pool": "gpu", "zone": "a"}
    assert train["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert train["serviceAccountName"] == "trainer"
    assert train["metadata"] == {"labels": {"team": "ml"}, "annotations": {"owner": "alice"}}
    assert container["securityContext"] == {"runAsUser": 1000, "runAsNonRoot": True}
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]
    assert {"name": "pvc-0", "persistentVolumeClaim": {"claimName": "data-claim"}} in train[
        "volumes"
    ]
    assert doc["spec"]["imagePullSecrets"] == [{"name": "registry-creds"}]


def test_secrets_come_from_kubernetes_secrets(doc: dict[str, Any]) -> None:
    env_from = template(doc, "train-model")["container"]["envFrom"]
    assert env_from == [
        {"secretRef": {"name": "aws-creds"}},  # @kubernetes(secrets=...)
        {"secretRef": {"name": "db-password"}},  # @secrets(sources=["kubernetes:..."])
        {"secretRef": {"name": "api-token"}},  # {"type": "kubernetes", "name": ...}
    ]
    assert "envFrom" not in template(doc, "start")["container"]


def test_environment_vars_follow_the_datastore_settings() -> None:
    store = {"STEPWELL_DATASTORE": "s3", "MODE": "slow"}
    (doc,) = compile_file(FLOWS / "argo_decorated_flow.py", environment=store)
    env = template(doc, "start")["container"]["env"]
    assert env == [
        {"name": "STEPWELL_DATASTORE", "value": "s3"},
        {"name": "MODE", "value": "fast"},  # the step's own value wins
        {"name": "LEVEL", "value": "3"},
    ]
    assert template(doc, "end")["container"]["env"] == [
        {"name": "STEPWELL_DATASTORE", "value": "s3"},
        {"name": "MODE", "value": "slow"},
    ]


def test_a_node_selector_that_is_not_key_value_is_refused() -> None:
    deco = KubernetesDecorator.build(node_selector="pool:gpu")
    node = StepNode("train", decorators=(deco,), file="flow.py", line=12)
    with pytest.raises(ConfigError, match=r"key=value") as caught:
        node_selector(node)
    assert caught.value.location == "flow.py:12"
    deco = KubernetesDecorator.build(node_selector=["a=1", "b=2"])
    assert node_selector(StepNode("t", decorators=(deco,))) == {"a": "1", "b": "2"}


def test_with_decorators_are_compiled_and_given_to_every_task() -> None:
    (doc,) = compile_file(SHAPES / "linear_flow.py", with_decorators=("retry:times=2",))
    for name in ("start", "double", "end"):
        assert template(doc, name)["retryStrategy"]["limit"] == 2
        argv = command(doc, name)
        assert argv[1:3] == ["--with", "retry:times=2"] and argv[3] == "task"
