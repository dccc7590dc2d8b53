"""@schedule, @trigger, @trigger_on_finish, @project and parameters on Argo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argo_helpers import FLOWS, command, compile_file, option_values, schema, template

from stepwell.exceptions import ConfigError


def test_schedule_is_a_cron_workflow_in_its_timezone() -> None:
    workflow_template, cron = compile_file(FLOWS / "argo_scheduled_flow.py")
    assert cron["kind"] == "CronWorkflow"
    assert cron["metadata"]["name"] == workflow_template["metadata"]["name"] == "scheduledflow"
    assert cron["spec"]["schedules"] == ["30 2 * * 1-5"]
    assert cron["spec"]["timezone"] == "Europe/Berlin"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    spec = cron["spec"]["workflowSpec"]
    assert spec["workflowTemplateRef"] == {"name": "scheduledflow"}
    # current.trigger in every task: the slot the run is for
    (slot,) = spec["arguments"]["parameters"]
    assert slot["name"] == "stepwell-event-0"
    assert json.loads(slot["value"]) == {
        "name": "schedule", "type": "schedule", "id": "{{workflow.scheduledTime}}"
    }  # fmt: skip
    assert {"name": "stepwell-event-0", "value": ""} in workflow_template["spec"]["arguments"][
        "parameters"
    ]
    assert option_values(command(workflow_template, "start"), "--trigger-event") == [
        "{{workflow.parameters.stepwell-event-0}}"
    ]


def test_trigger_is_a_sensor_mapping_the_payload_to_parameters() -> None:
    _, sensor = compile_file(FLOWS / "argo_triggered_flow.py", event_source="my-events")
    assert sensor["kind"] == "Sensor"
    deps = sensor["spec"]["dependencies"]
    assert [(d["name"], d["eventSourceName"], d["eventName"]) for d in deps] == [
        ("event-0", "my-events", "stepwell"),
        ("event-1", "my-events", "stepwell"),
    ]
    assert [d["filters"]["data"][0]["value"] for d in deps] == [["data_ready"], ["model_ready"]]
    (trigger,) = sensor["spec"]["triggers"]
    submit = trigger["template"]["argoWorkflow"]
    workflow = submit["source"]["resource"]
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "triggeredflow"}
    assert workflow["spec"]["arguments"]["parameters"] == [
        {"name": "day", "value": "none"},
        {"name": "stepwell-event-0", "value": ""},
        {"name": "stepwell-event-1", "value": ""},
    ]
    assert submit["parameters"] == [
        {
            "src": {"dependencyName": "event-0", "dataKey": "body.payload.date", "value": "none"},
            "dest": "spec.arguments.parameters.0.value",
        },
        {  # each event's body, for current.trigger
            "src": {"dependencyName": "event-0", "dataKey": "body"},
            "dest": "spec.arguments.parameters.1.value",
        },
        {
            "src": {"dependencyName": "event-1", "dataKey": "body"},
            "dest": "spec.arguments.parameters.2.value",
        },
    ]
    template_doc, _ = compile_file(FLOWS / "argo_triggered_flow.py")
    assert option_values(command(template_doc, "end"), "--trigger-event") == [
        "{{workflow.parameters.stepwell-event-0}}",
        "{{workflow.parameters.stepwell-event-1}}",
    ]
    assert schema().errors(workflow) == []  # what the Sensor submits is a valid Workflow


def test_trigger_on_finish_waits_for_the_upstream_flows_event() -> None:
    # UpstreamFlow never ran here: on a cluster it need not have
    _, sensor = compile_file(FLOWS / "argo_finish_flow.py")
    (dep,) = sensor["spec"]["dependencies"]
    assert dep["filters"]["data"][0]["value"] == ["stepwell.finished.UpstreamFlow"]
    assert sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["parameters"] == [
        {"src": {"dependencyName": "finished-0", "dataKey": "body"},
         "dest": "spec.arguments.parameters.0.value"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("branch", "production", "name", "top_level"),
    [
        ("b1", False, "fraud-test-b1-projectflow", ["--branch", "b1"]),
        (None, True, "fraud-prod-projectflow", ["--production"]),
        ("b1", True, "fraud-prod-b1-projectflow", ["--production", "--branch", "b1"]),
        (None, False, "fraud-user-tester-projectflow", []),
    ],
)
def test_project_branches_deploy_side_by_side(
    branch: str | None, production: bool, name: str, top_level: list[str]
) -> None:
    template_doc, sensor = compile_file(
        FLOWS / "argo_project_flow.py", branch=branch, production=production
    )
    assert template_doc["metadata"]["name"] == sensor["metadata"]["name"] == name
    argv = command(template_doc, "start")
    assert argv[1 : argv.index("task")] == top_level
    upstream = sensor["spec"]["dependencies"][0]["filters"]["data"][0]["value"][0]
    assert upstream.startswith("stepwell.finished.fraud.") and upstream.endswith(".ScoringFlow")
    env = template(template_doc, "start")["container"].get("env", [])
    assert ({"name": "METAFLOW_OWNER", "value": "tester"} in env) == (not top_level)


def test_parameters_are_workflow_arguments_with_the_flows_defaults() -> None:
    (doc,) = compile_file(FLOWS / "argo_params_flow.py")
    assert doc["spec"]["arguments"]["parameters"] == [
        {"name": "rate", "value": "0.25"},
        {"name": "epochs", "value": "10"},
        {"name": "verbose", "value": "false"},
        {"name": "label", "value": "v1"},
        {"name": "grid", "value": '{"depth": [2, 4]}'},
        {"name": "tags-list", "value": "a,b"},
        {"name": "dataset"},  # required, no default: given when the workflow is submitted
    ]  # "note" (optional, no default) is left out; "settings" is a Config
    argv = command(doc, "start")
    assert "dataset={{workflow.parameters.dataset}}" in option_values(argv, "--param")
    assert len(option_values(argv, "--param")) == 7
    assert argv[1:4] == ["--config-value", "settings", '{"lr": 0.1}']
    assert option_values(command(doc, "end"), "--param") == []


def test_config_values_given_at_create_reach_every_task() -> None:
    (doc,) = compile_file(FLOWS / "argo_params_flow.py", configs={"settings": {"lr": 0.5}})
    for name in ("start", "end"):
        assert command(doc, name)[1:4] == ["--config-value", "settings", '{"lr": 0.5}']


def test_an_event_cannot_set_a_parameter_without_default(tmp_path: Path) -> None:
    flow = tmp_path / "nodefault_flow.py"
    flow.write_text(
        "from stepwell import FlowSpec, Parameter, step, trigger\n\n\n"
        "@trigger(event={'name': 'go', 'parameters': {'day': 'date'}})\n"
        "class NoDefaultFlow(FlowSpec):\n"
        "    day = Parameter('day')\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    with pytest.raises(ConfigError, match=r"Parameter\('day', default=\.\.\.\)"):
        compile_file(flow)
