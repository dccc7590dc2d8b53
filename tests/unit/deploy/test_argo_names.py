"""Kubernetes names: valid DNS-1123 labels, stable, and never shared by two steps."""

from __future__ import annotations

import re

import pytest

from stepwell.deploy.argo import resource_name, step_name
from stepwell.deploy.argo._names import MAX_RESOURCE, MAX_STEP, check_unique, label_value
from stepwell.exceptions import ConfigError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    ("step", "expected"),
    [("start", "start"), ("train_model", "train-model"), ("a__b", "a--b"), ("step2", "step2")],
)
def test_a_plain_step_name_maps_one_to_one(step: str, expected: str) -> None:
    assert step_name(step) == expected


@pytest.mark.parametrize(
    "step", ["data_", "_private", "x" * 41, "a_step_with_a_rather_long_name_that_goes_on_and_on"]
)
def test_other_step_names_get_a_hash_and_stay_valid(step: str) -> None:
    name = step_name(step)
    assert DNS_LABEL.match(name) and len(name) <= MAX_STEP
    assert re.search(r"-[0-9a-f]{6}$", name)
    assert step_name(step) == name  # stable: the same flow always compiles the same


def test_long_names_with_one_prefix_stay_distinct() -> None:
    first, second = "a" * 50 + "_one", "a" * 50 + "_two"
    assert step_name(first) != step_name(second)
    # a name that maps one-to-one cannot take the name a hashed one got
    assert step_name("data_") != step_name("data")


def test_deployment_names() -> None:
    assert resource_name("HelloFlow") == "helloflow"
    assert resource_name("fraud.test.my_branch.ScoreFlow") == "fraud-test-my-branch-scoreflow"
    long = resource_name("proj." + "b" * 80 + ".ScoreFlow")
    assert DNS_LABEL.match(long) and len(long) <= MAX_RESOURCE
    assert long != resource_name("proj." + "b" * 81 + ".ScoreFlow")


def test_label_values() -> None:
    assert label_value("ScoreFlow") == "ScoreFlow"
    value = label_value("x" * 100)
    assert len(value) <= 63 and re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", value)


def test_two_things_of_one_name_are_refused_with_both_named() -> None:
    check_unique([("a", "step a"), ("a", "step a")], "main")  # the same thing twice is fine
    with pytest.raises(ConfigError) as caught:
        check_unique([("loop-again", "step loop_again"), ("loop-again", "a loop task")], "main")
    assert "step loop_again" in str(caught.value) and "a loop task" in str(caught.value)
    assert "Rename one of the steps" in str(caught.value)
