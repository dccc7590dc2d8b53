"""Every step decorator the Argo compiler reads, on three steps."""

from stepwell import (
    FlowSpec,
    Parameter,
    catch,
    environment,
    kubernetes,
    resources,
    retry,
    secrets,
    step,
    timeout,
)


class DecoratedFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @retry(times=4, minutes_between_retries=1.5)
    @timeout(minutes=10, seconds=5)
    @resources(cpu=2, memory=8192, gpu=1)
    @environment(vars={"MODE": "fast", "LEVEL": "3"})
    @step
    def start(self):
        self.next(self.train_model)

    @kubernetes(
        cpu=4,
        memory=2048,
        disk=20000,
        gpu=2,
        gpu_vendor="amd",
        image="ghcr.io/acme/train:1",
        image_pull_policy="Always",
        image_pull_secrets=["registry-creds"],
        node_selector="pool=gpu,zone=a",
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        secrets=["aws-creds"],
        labels={"team": "ml"},
        annotations={"owner": "alice"},
        shared_memory=1024,
        persistent_volume_claims={"data-claim": "/data"},
        service_account="trainer",
        qos="Guaranteed",
        security_context={"run_as_user": 1000, "run_as_non_root": True},
    )
    @secrets(sources=["kubernetes:db-password", {"type": "kubernetes", "name": "api-token"}])
    @catch(var="failure")
    @step
    def train_model(self):
        self.next(self.end)

    @retry
    @resources(cpu=3, memory=1024)
    @kubernetes(cpu=1, memory=2048)
    @step
    def end(self):
        pass


if __name__ == "__main__":
    DecoratedFlow()
