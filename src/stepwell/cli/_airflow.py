"""``python flow.py airflow create DAG_FILE``: the flow as an Airflow 3 DAG file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stepwell.cli._errors import cli_errors


def airflow_group(flow_cls: type, flow_file: str) -> click.Group:
    """The flow's ``airflow`` command group."""

    @click.group(help="Deploy the flow to Apache Airflow (3.x) as a DAG file.")
    def airflow() -> None:
        pass

    @airflow.command(
        help="Store the flow's code package and write its Airflow DAG to DAG_FILE (put it "
        "in Airflow's dags folder). Each task runs `stepwell task`, in a process of the "
        "Airflow worker or, with --kubernetes, in a pod."
    )
    @click.argument("dag_file", type=click.Path(dir_okay=False, writable=True))
    @click.option(
        "--kubernetes",
        is_flag=True,
        help="Run each task as a pod (KubernetesPodOperator); needs --image.",
    )
    @click.option(
        "--image",
        default=None,
        metavar="IMAGE",
        help="The pods' image: stepwell and the flow's dependencies installed.",
    )
    @click.option(
        "--namespace",
        default="default",
        show_default=True,
        help="The Kubernetes namespace of the pods.",
    )
    @click.option("--tag", "tags", multiple=True, help="A tag for every run (repeatable).")
    @click.option(
        "--max-workers",
        type=click.IntRange(min=1),
        default=None,
        help="At most this many tasks of one DAG run at once (max_active_tasks).",
    )
    @click.option(
        "--workflow-timeout",
        type=click.IntRange(min=1),
        default=None,
        metavar="SECONDS",
        help="Fail a DAG run that takes longer (dagrun_timeout).",
    )
    @click.option(
        "--is-paused-upon-creation", "paused", is_flag=True, help="Airflow adds the DAG paused."
    )
    @click.option(
        "--deployer-attribute-file",
        default=None,
        hidden=True,
        type=click.Path(dir_okay=False),
        help="Write what was created as JSON here (for the Deployer).",
    )
    @click.pass_context
    def create(
        ctx: click.Context, dag_file: str, deployer_attribute_file: str | None, **values: Any
    ) -> None:
        from stepwell.config import load_settings
        from stepwell.deploy.airflow._create import create_dag
        from stepwell.deploy.airflow._operator import AirflowOptions

        top = ctx.find_root().obj or {}
        with cli_errors():
            settings = load_settings(
                datastore=top.get("datastore"), datastore_root=top.get("datastore_root")
            )
            created = create_dag(
                flow_cls,
                settings,
                flow_file=flow_file,
                dag_file=dag_file,
                options=AirflowOptions(**{**values, "tags": tuple(values["tags"])}),
                branch=top.get("branch"),
                production=bool(top.get("production")),
                configs=top.get("configs"),
            )
        if deployer_attribute_file:
            attributes = {"name": created.dag_id, "flow_name": created.flow_name,
                          "path": str(created.path), "package": created.package}  # fmt: skip
            Path(deployer_attribute_file).write_text(json.dumps(attributes))
        click.echo(
            f"Wrote DAG {created.dag_id} to {created.path} (code package "
            f"{created.package[:12]}). Put the file in Airflow's dags folder."
        )

    return airflow
