"""``airflow create``: store the code package, compile the DAG, write the file.

The thin layer around :func:`~stepwell.deploy.airflow.compile_airflow`: what
touches the datastore (the code package) and the disk. Nothing is recorded as
a local deployment: ``stepwell scheduler`` never starts runs of a flow that
Airflow schedules.

What every task needs to be a task of the same run as the deploying user saw
it comes from the compilers' shared preparation (``stepwell.deploy._prepare``):
the parameters' deploy-time defaults and the configs' values (passed
to every task as ``--config-value``), and the @project branch (``--branch`` /
``--production``, or ``METAFLOW_OWNER`` for a user branch).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stepwell.deploy._command import deployment_environment
from stepwell.deploy.airflow import compile_airflow, dag_id_of, write_dag_file
from stepwell.deploy.airflow._operator import AirflowOptions
from stepwell.exceptions import ConfigError


@dataclass(frozen=True)
class CreatedDag:
    """What ``create`` wrote: the DAG's id, its file, its text, the code package's key."""

    dag_id: str
    flow_name: str
    path: Path
    source: str
    package: str


def create_dag(
    flow_cls: type,
    settings: Any,
    *,
    flow_file: str,
    dag_file: str | Path,
    options: AirflowOptions,
    branch: str | None = None,
    production: bool = False,
    configs: dict[str, Any] | None = None,
) -> CreatedDag:
    """Store ``flow_cls``'s code package and write its Airflow DAG to ``dag_file``."""
    from stepwell._version import __version__
    from stepwell.deploy._prepare import prepare_flow, store_code

    if options.kubernetes and not options.image:
        raise ConfigError(
            "airflow create --kubernetes needs the pods' image: pass --image "
            "REGISTRY/IMAGE:TAG (an image with stepwell and the flow's dependencies)."
        )
    code = store_code(flow_cls, settings, flow_file, configs)
    flow = prepare_flow(
        flow_cls, settings.username, code, branch=branch, production=production, configs=configs
    )
    graph, plan = flow.graph, flow.plan
    source = compile_airflow(
        graph,
        plan,
        flow_cls._sw_parameters(),  # type: ignore[attr-defined]
        env={**deployment_environment(settings), **flow.environment},
        options=replace(options, top_level=(*flow.top_level, *options.top_level)),
        version=__version__,
    )
    if options.kubernetes and "local" in (str(settings.datastore), str(settings.metadata)):
        print(
            "Note: the datastore or the metadata is local to this machine; pods reach it only "
            "if it is mounted at the same path. Use an S3 datastore and PostgreSQL metadata.",
            file=sys.stderr,
        )
    path = write_dag_file(dag_file, source)
    return CreatedDag(dag_id_of(plan.name), plan.flow_name, path, source, code["code_key"])
