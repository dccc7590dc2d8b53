"""Argo Workflows: a flow compiled to a WorkflowTemplate, a CronWorkflow and a Sensor.

Rules kept by the modules here:

* :func:`compile_argo` is pure: graph + decorators + deployment plan ->
  documents (dicts). Storing the code package (``_prepare``) and talking to a
  cluster (``_cluster``, the ``kubernetes`` package imported late) are thin
  layers on top, used by ``python flow.py argo-workflows ...`` and the Deployer.
* One module per concern: names (``_names``), the graph cut into DAG
  templates (``_scopes``, ``_dag``, ``_conditions``), a step's container
  (``_containers``, ``_pod``), schedules and events (``_events``), the
  workflow around them (``_workflow``).
* Every container runs the one-task command (:func:`stepwell.deploy.task_command`);
  Argo only decides when a task runs. Nothing in a manifest depends on a
  foreach's width: splits fan out at run time (``withParam``).

See docs/production.md, section "Argo Workflows", for the layout of the
documents and their limits.
"""

from __future__ import annotations

from stepwell.deploy.argo._names import resource_name, step_name
from stepwell.deploy.argo._prepare import (
    ArgoDeployment,
    argo_name,
    build_documents,
    prepare_argo,
)
from stepwell.deploy.argo._workflow import DEFAULT_IMAGE, ArgoOptions, compile_argo

__all__ = [
    "DEFAULT_IMAGE",
    "ArgoDeployment",
    "ArgoOptions",
    "argo_name",
    "build_documents",
    "compile_argo",
    "prepare_argo",
    "resource_name",
    "step_name",
]
