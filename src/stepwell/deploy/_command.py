"""The one-task command line, as a compiler writes it into a manifest or a DAG.

``stepwell task STEP ...`` runs exactly one task of a run (see
``stepwell.runtime._onetask`` and docs/production.md). A compiler fills the
values an orchestrator knows only at run time with its own placeholders
(Argo: ``{{inputs.parameters.split-index}}``; Airflow: Jinja), so these
functions take every value as text and never interpret it.

What the command writes to ``--output-dir`` (one file per field, plus the
whole result as ``result.json``) is what a compiler reads back to wire the
next tasks: :data:`RESULT_FIELDS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stepwell.config import Settings

#: Files the command writes into ``--output-dir``: the task's pathspec
#: (``Flow/run/step/task``), ``run_id``, ``task_id``, ``next_steps`` (JSON list),
#: ``splits`` (JSON list of split indexes: a foreach's ``[0, 1, ..., n-1]``, else ``[]``),
#: ``chosen`` (a switch's chosen step, else empty) and ``result.json`` (all of it).
RESULT_FIELDS = ("pathspec", "run_id", "task_id", "next_steps", "splits", "chosen")


def task_command(
    step: str,
    *,
    flow_file: str,
    run_key: str,
    package: str | None = None,
    inputs: Iterable[str] = (),
    inputs_json: str | None = None,
    inputs_of_split: str | None = None,
    split_index: str | None = None,
    attempt: str | None = None,
    parameters: Mapping[str, str] | None = None,
    tags: Iterable[str] = (),
    runtime: str | None = None,
    output_dir: str | None = None,
    trigger: str | None = None,
    trigger_events: Iterable[str] = (),
    executable: str = "stepwell",
) -> list[str]:
    """The argv of one task of ``step``; every value is passed through as written.

    Args:
        step: the step to run.
        flow_file: the flow file, inside the code package when ``package`` is given.
        run_key: the orchestrator's id of this run (e.g. ``argo-{{workflow.uid}}``);
            every task of one orchestrator run gives the same key.
        package: the code package's key in the datastore; None runs ``flow_file`` as found.
        inputs: pathspecs ``STEP/TASK_ID`` of the input tasks (a join: all, in split order).
        inputs_json: the same as a JSON list (an orchestrator's aggregated outputs).
        inputs_of_split: a join: the pathspec of the task whose split it closes; the
            command finds the inputs in the run (one argument, however wide the foreach).
        split_index: this task is branch N of its single input's foreach.
        attempt: the orchestrator's retry counter; None runs every @retry attempt here.
        parameters: the start step's parameters, name -> text (as ``run --NAME VALUE``).
        tags: user tags for the run (start step).
        runtime: recorded as the run's ``runtime:NAME`` system tag.
        output_dir: where the result files (:data:`RESULT_FIELDS`) are written.
        trigger: what started the run, as JSON (``current.trigger`` in every task):
            ``{"events": [{"name", "id", "type", "timestamp", "payload"}]}``.
        trigger_events: events that started the run, each as its JSON body
            (``{"name": ..., "payload": {...}}``, as posted to the events webhook); an
            empty value (an event that did not happen) is ignored.
        executable: the command that runs stepwell.
    """
    argv = [executable, "task", step, "--flow", flow_file, "--run-key", run_key]
    if package is not None:
        argv += ["--package", package]
    for pathspec in inputs:
        argv += ["--input", pathspec]
    if inputs_json is not None:
        argv += ["--inputs-json", inputs_json]
    if inputs_of_split is not None:
        argv += ["--inputs-of-split", inputs_of_split]
    if split_index is not None:
        argv += ["--split-index", split_index]
    if attempt is not None:
        argv += ["--attempt", attempt]
    for name, value in (parameters or {}).items():
        argv += ["--param", f"{name}={value}"]
    for tag in tags:
        argv += ["--tag", tag]
    if runtime is not None:
        argv += ["--runtime", runtime]
    if output_dir is not None:
        argv += ["--output-dir", output_dir]
    if trigger is not None:
        argv += ["--trigger", trigger]
    for event in trigger_events:
        argv += ["--trigger-event", event]
    return argv


def finish_run_command(
    flow_name: str, *, run_key: str, status: str, executable: str = "stepwell"
) -> list[str]:
    """The argv an orchestrator's exit handler runs: the run ends as ``status`` if still running.

    ``status`` is the orchestrator's word for how the whole run ended
    (Argo's ``{{workflow.status}}``: Succeeded, Failed, Error); anything but
    success marks a run that is still ``running`` as failed.
    """
    return [executable, "finish-run", flow_name, "--run-key", run_key, "--status", status]


def deployment_environment(settings: Settings) -> dict[str, str]:
    """The ``STEPWELL_*`` variables a deployed task needs to find the run's stores.

    The datastore (kind, root, S3 endpoint) and the metadata store, taken from
    the deploying user's settings; credentials are never included (the
    orchestrator provides them: a Kubernetes secret, an Airflow connection).
    """
    env = {
        "STEPWELL_DATASTORE": settings.datastore,
        "STEPWELL_METADATA": _without_password(settings.metadata),
    }
    if settings.datastore_root:
        env["STEPWELL_DATASTORE_ROOT"] = settings.datastore_root
    if settings.s3_endpoint_url:
        env["STEPWELL_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    return env


def _without_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user@host/db``."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
