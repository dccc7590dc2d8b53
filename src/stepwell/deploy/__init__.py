"""Compilers to production orchestrators (Argo Workflows, Airflow) and what they share.

Rules: a compiler is a pure function from the flow's graph, its decorators and a
deployment plan to documents (dicts, or a DAG file's text); writing files and
talking to clusters is a thin layer on top (the CLI groups). Every deployed
task runs the one-task command (``stepwell task``, built by
:func:`task_command`), so the orchestrator only decides *when* a task runs;
what a task is — its inputs, retries, @catch, artifacts, logs, metadata — is
stepwell's, exactly as in a local run. One small module per target and per
concern; orchestrator clients (kubernetes, airflow) are imported late.
"""

from __future__ import annotations

from stepwell.deploy._command import (
    RESULT_FIELDS,
    deployment_environment,
    finish_run_command,
    task_command,
)

__all__ = ["RESULT_FIELDS", "deployment_environment", "finish_run_command", "task_command"]
