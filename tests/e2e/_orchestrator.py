"""What an orchestrator does with the one-task command, as small as a test can have it.

It knows nothing of the flow but its start and join steps: it runs the start step, then each
task its results name (a foreach's split indexes fan out; a join runs once
every input of the split it closes has finished), one task at a time — as
Argo's or Airflow's DAG would, in dependency order.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

#: (step, input pathspecs, split index) -> the command's result (its JSON, parsed)
RunTask = Callable[[str, list[str], "int | None"], dict[str, Any]]


def drive(run_task: RunTask, graph: Any, metadata: Any, flow: str) -> list[dict[str, Any]]:
    """Every task of one run, from the start step; the results in the order they ran."""
    joins = {node.name for node in graph if node.is_join}
    ready: deque[tuple[str, list[str], int | None]] = deque([(graph.start, [], None)])
    arrived: dict[tuple[str, str], dict[int, str]] = {}
    results = []
    while ready:
        step, inputs, split = ready.popleft()
        result = run_task(step, inputs, split)
        assert result["status"] == "succeeded", result
        results.append(result)
        for following in result["next_steps"]:
            if following in joins:
                split_task, _kind, index, width = _closing_frame(metadata, flow, result)
                slot = arrived.setdefault((following, split_task), {})
                slot[index] = result["pathspec"]
                if len(slot) == width:
                    ready.append((following, [slot[i] for i in sorted(slot)], None))
            elif result["splits"]:
                ready.extend((following, [result["pathspec"]], i) for i in result["splits"])
            else:
                ready.append((following, [result["pathspec"]], None))
    return results


def _closing_frame(metadata: Any, flow: str, result: dict[str, Any]) -> list[Any]:
    """The innermost split around the task: the one the join after it closes."""
    task = metadata.get_task(flow, result["run_id"], result["step"], result["task_id"])
    return list(json.loads(task.foreach_stack)[-1])
