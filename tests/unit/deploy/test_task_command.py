"""The one-task command line as compilers write it: values pass through as written."""

from __future__ import annotations

from stepwell.config import load_settings
from stepwell.deploy import deployment_environment, finish_run_command, task_command


def test_the_command_carries_each_value_as_written_in_a_fixed_order():
    argv = task_command(
        "train", flow_file="flow.py", run_key="argo-{{workflow.uid}}", package="sha256:ab",
        inputs=["{{tasks.start.outputs.parameters.pathspec}}"], split_index="{{item}}",
        attempt="{{retries}}", parameters={"alpha": "{{workflow.parameters.alpha}}"},
        runtime="argo-workflows", output_dir="/tmp/out",
    )  # fmt: skip
    assert argv == [
        "stepwell", "task", "train", "--flow", "flow.py", "--run-key", "argo-{{workflow.uid}}",
        "--package", "sha256:ab", "--input", "{{tasks.start.outputs.parameters.pathspec}}",
        "--split-index", "{{item}}", "--attempt", "{{retries}}",
        "--param", "alpha={{workflow.parameters.alpha}}", "--runtime", "argo-workflows",
        "--output-dir", "/tmp/out",
    ]  # fmt: skip
    assert task_command("end", flow_file="f.py", run_key="k", inputs_json="[]")[-2:] == [
        "--inputs-json", "[]",
    ]  # fmt: skip


def test_the_exit_handler_command_names_the_flow_key_and_status():
    assert finish_run_command("TrainFlow", run_key="k", status="{{workflow.status}}") == [
        "stepwell", "finish-run", "TrainFlow", "--run-key", "k", "--status", "{{workflow.status}}",
    ]  # fmt: skip


def test_the_deployed_environment_names_the_stores_and_never_a_password():
    settings = load_settings(env={
        "STEPWELL_HOME": "/tmp/unused", "STEPWELL_DATASTORE": "s3",
        "STEPWELL_DATASTORE_ROOT": "s3://bucket/runs", "STEPWELL_S3_ENDPOINT_URL": "http://s3:9000",
        "STEPWELL_METADATA": "postgresql://ada:hunter2@db.example.com:5432/stepwell",
    })  # fmt: skip
    assert deployment_environment(settings) == {
        "STEPWELL_DATASTORE": "s3",
        "STEPWELL_DATASTORE_ROOT": "s3://bucket/runs",
        "STEPWELL_S3_ENDPOINT_URL": "http://s3:9000",
        "STEPWELL_METADATA": "postgresql://ada@db.example.com:5432/stepwell",
    }
