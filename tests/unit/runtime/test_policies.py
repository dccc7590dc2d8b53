"""Retry/catch policies, time limits and resource admission taken from decorators."""

from __future__ import annotations

import io

import pytest

from stepwell import FlowSpec, batch, catch, kubernetes, resources, retry, step, timeout
from stepwell.exceptions import ConfigError
from stepwell.graph import build_graph
from stepwell.runtime._policies import (
    Admission,
    Capacity,
    failure_policies,
    requested_resources,
    time_limits,
)


class PolicyFlow(FlowSpec):
    @retry(times=2, minutes_between_retries=0.5)
    @step
    def start(self):
        self.next(self.train)

    @catch(var="err")
    @timeout(minutes=1, seconds=30)
    @resources(cpu=2, memory=1000)
    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass


GRAPH = build_graph(PolicyFlow)


def test_failure_policies_and_time_limits() -> None:
    policies = failure_policies(GRAPH)
    assert policies["start"].times == 2 and policies["start"].delay_seconds == 30
    assert not policies["start"].catch
    assert policies["train"].times == 0 and policies["train"].catch
    assert "end" not in policies
    assert time_limits(GRAPH) == {"train": (90.0, "@timeout(minutes=1, seconds=30)")}


def test_admission_keeps_to_cpus_and_memory() -> None:
    admission = Admission(GRAPH, Capacity(cpus=4, memory_mb=1500, gpus=0))
    assert admission.fits("train", running=0)
    admission.take("train")
    assert not admission.fits("train", running=1)  # memory: 1000 + 1000 > 1500
    assert admission.fits("end", running=1)  # no @resources: asks for nothing
    admission.release("train")
    assert admission.fits("train", running=1)


def test_a_cluster_executor_admits_every_task_its_cluster_places() -> None:
    admission = Admission(GRAPH, Capacity.unlimited())  # Ray queues tasks by their requests
    for running in range(100):
        assert admission.fits("train", running=running)
        admission.take("train")
    assert admission.check(GRAPH, out=io.StringIO()) == []  # no request is beyond it


def test_a_lone_large_task_always_fits() -> None:
    admission = Admission(GRAPH, Capacity(cpus=1, memory_mb=100, gpus=0))
    assert admission.fits("train", running=0)


def test_requests_beyond_the_machine_warn_once_and_are_capped() -> None:
    out = io.StringIO()
    admission = Admission(GRAPH, Capacity(cpus=1, memory_mb=512, gpus=0))
    lines = admission.check(GRAPH, out=out)
    assert lines == [
        "Note: step 'train' asks for cpu=2 (this machine has 1) and memory=1000 MB "
        "(this machine has 512); this local run caps it to the machine."
    ]
    assert out.getvalue() == lines[0] + "\n"
    admission.take("train")  # capped: the whole machine, so nothing else with needs fits
    assert not admission.fits("train", running=1)
    admission.release("train")
    assert admission.fits("train", running=1)


def test_retry_waits_locally_only_when_the_wait_is_written() -> None:
    class DefaultWait(FlowSpec):
        @retry(times=1)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    assert failure_policies(build_graph(DefaultWait))["start"].delay_seconds == 0


class RemoteFlow(FlowSpec):
    @kubernetes(cpu="3", memory=2048)
    @resources(cpu=1, memory=8000)
    @step
    def start(self):
        self.next(self.end)

    @batch(gpu=1)
    @step
    def end(self):
        pass


def test_kubernetes_and_batch_resources_act_as_resources_largest_wins() -> None:
    graph = build_graph(RemoteFlow)
    assert requested_resources(graph["start"]) == {"cpu": 3.0, "memory": 8000.0}
    assert requested_resources(graph["end"]) == {"gpu": 1.0, "cpu": 1.0, "memory": 4096.0}
    out = io.StringIO()
    Admission(graph, Capacity(cpus=8, memory_mb=16000, gpus=1)).check(graph, out=out)
    assert out.getvalue().splitlines() == [
        "Note: step 'start' has @kubernetes; this local run runs it here, using its cpu, "
        "memory and gpu as @resources.",
        "Note: step 'end' has @batch; this local run runs it here, using its cpu, memory "
        "and gpu as @resources.",
    ]


def test_strict_admission_refuses_requests_beyond_the_machine_naming_the_step() -> None:
    admission = Admission(GRAPH, Capacity(cpus=1, memory_mb=512, gpus=0), strict=True)
    with pytest.raises(ConfigError) as info:
        admission.check(GRAPH)
    message = str(info.value)
    assert "Step 'train' asks for cpu=2 (this machine has 1)" in message
    assert "memory=1000 MB (this machine has 512)" in message
