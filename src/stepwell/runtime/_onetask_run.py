"""``OneTaskRun``: a :class:`LocalRun` of the one task the one-task command runs.

It overrides what differs from a whole run (see ``runtime/_onetask.py``): the
run is found or created under its key instead of made anew, the scheduler
holds the one task, the run ends only at the end step or on a failure no
retry follows, and with ``--attempt`` the orchestrator makes the retries.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from stepwell.runtime._context import RunInfo, WorkerContext
from stepwell.runtime._onetask import TaskOutcomeSummary, TaskRequest
from stepwell.runtime._run import LocalRun
from stepwell.runtime._scheduler import RetryPolicy, Scheduler
from stepwell.runtime._spec import TaskSpec


class OneTaskRun(LocalRun):
    """A LocalRun of one task: it records that task into an existing (or keyed) run.

    A @parallel gang's tasks are run one by one, each by its own command: the
    orchestrator starts them side by side (an Argo fan-out, mapped Airflow tasks).
    """

    starts_gangs = False

    def __init__(self, *args: Any, request: TaskRequest, placed: TaskSpec | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.request = request
        self.placed = placed  # None: the start task, placed once the run exists
        self.spec: TaskSpec | None = None
        self.retryable = False
        self.already_done = False

    def _save_code(self, worker: WorkerContext) -> str | None:
        if self.request.code_key is not None or self.placed is not None:
            return self.request.code_key  # the run has its package; a later task adds none
        return super()._save_code(worker)

    def _open_run(self, info: RunInfo, worker: WorkerContext, code_key: str | None) -> str:
        if self.placed is not None:
            return self.placed.run_id
        system_tags = self._system_tags(runtime=self.request.runtime)
        return str(
            self.metadata.new_run(
                info.flow_name,
                user=self.username,
                tags=list(self.options.tags),
                system_tags=system_tags,
                parameters=self._parameters_json(),
                pid=None,  # no process of ours lives between the run's tasks
                host=None,
                run_id=self.request.run_id,
                run_key=self.request.run_key,
                code_key=code_key,
                datastore=info.datastore_url,
            )
        )

    def _queue_first(self, scheduler: Scheduler, worker: WorkerContext) -> None:
        from stepwell.runtime._placement import derive_task_id

        if self.placed is None:
            start = str(self.graph.start)
            self.placed = TaskSpec(
                flow_name=scheduler.flow_name, run_id=scheduler.run_id, step_name=start,
                task_id=derive_task_id(start, (), None), param_refs=self._save_parameters(worker),
            )  # fmt: skip
        latest = self._latest_attempt(self.placed)
        self.spec = self.placed
        if latest is not None and latest.status == "succeeded":
            self.already_done = True  # asked again (an orchestrator's re-run): nothing runs
            self.reporter.status(
                f"Task {latest.pathspec} already succeeded (attempt {latest.attempt}); "
                "it is not run again."
            )
            return
        attempt = self.request.attempt
        if attempt is None:  # every attempt here, after those already recorded
            attempt = 0 if latest is None else latest.attempt + 1
        self.spec = replace(self.placed, attempt=attempt)
        scheduler.start_one(self.spec)

    def _latest_attempt(self, spec: TaskSpec) -> Any:
        from stepwell.exceptions import NotFoundError

        try:
            return self.metadata.get_task(spec.flow_name, spec.run_id, spec.step_name, spec.task_id)
        except NotFoundError:
            return None

    def _failure_policies(self) -> dict[str, RetryPolicy]:
        policies = super()._failure_policies()
        attempt = self.request.attempt
        policy = policies.get(self.request.step)
        if attempt is not None and policy is not None:  # the orchestrator makes the retries
            last = attempt >= policy.times
            self.retryable = not last  # a failure here exits non-zero, for it to retry
            policies[self.request.step] = RetryPolicy(attempt, 0.0, policy.catch and last)
        return policies

    def _close_run(self, run_id: str, ok: bool, error: str | None) -> None:
        if self.already_done:
            return
        if ok and self.request.step == self.graph.end:
            super()._close_run(run_id, True, None)
        elif not ok and not self.retryable:
            super()._close_run(run_id, False, error)


def summarize(metadata: Any, spec: TaskSpec, retryable: bool) -> TaskOutcomeSummary:
    """The recorded outcome of ``spec``'s task (its latest attempt)."""
    task = metadata.get_task(spec.flow_name, spec.run_id, spec.step_name, spec.task_id)
    ok = task.status == "succeeded"
    splits = tuple(range(task.split_count)) if ok and task.split_count is not None else ()
    chosen = None
    if ok and len(task.next_steps) == 1:
        transition = metadata.get_task_metadata(
            spec.flow_name, spec.run_id, spec.step_name, spec.task_id
        ).get("transition", "{}")
        if json.loads(transition).get("condition") is not None:
            chosen = task.next_steps[0]
    return TaskOutcomeSummary(
        pathspec=task.pathspec,
        run_id=spec.run_id,
        task_id=spec.task_id,
        step=spec.step_name,
        status="succeeded" if ok else "failed",
        attempt=task.attempt,
        next_steps=tuple(task.next_steps) if ok else (),
        splits=splits,
        chosen=chosen,
        retryable=retryable and not ok,
        error=None if ok else _last_line(task.exception),
    )


def _last_line(text: str | None) -> str | None:
    """The exception's own line: the last line of the traceback."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else None
