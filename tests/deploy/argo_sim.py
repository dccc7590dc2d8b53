"""A small stand-in for Argo's workflow controller, to run a compiled WorkflowTemplate here.

No Argo can run on this machine, so this module executes the documents the
way Argo's controller does for the features the compiler uses, and runs each
container's command as a local process:

- DAG templates: a task starts once every task its ``depends`` names has
  finished; ``depends`` false -> Omitted, ``when`` false -> Skipped;
  ``withParam`` fans a task out over a JSON list (``{{item}}``), and
  ``{{tasks.X.outputs.parameters}}`` of a fanned-out task is the JSON list of
  its items' output maps, in item order;
- ``{{...}}`` substitution leaves what it cannot resolve as it is (Argo's
  ``allowUnresolved`` for DAG tasks); ``{{=expr}}`` and ``valueFrom.expression``
  are evaluated with the subset of Argo's expression language the compiler
  writes (``tasks['x'].outputs.parameters.y``, ``==``, ``&&``, ``||``, ``? :``);
  reading the output of a task that did not run is an error, as in Argo;
- ``retryStrategy.limit`` more attempts, ``{{retries}}`` counting them
  (without the backoff wait); ``spec.onExit`` with ``{{workflow.status}}``;
  an ``http`` template is recorded, not sent.

It is a test double: what it cannot know is whether Argo itself behaves so;
the schema tests check the documents' form.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{(=?)(.*?)\}\}")
_TASK_OUTPUT = re.compile(r"tasks\['([^']+)'\]\.outputs\.parameters\.([\w-]+)")
_DEPENDS = re.compile(r"([A-Za-z0-9-]+)\.(Succeeded|Skipped|Failed)")


class TaskFailed(Exception):
    pass


class Simulator:
    def __init__(
        self,
        document: dict[str, Any],
        *,
        stepwell: str,
        workdir: Path,
        env: dict[str, str],
        parameters: dict[str, str] | None = None,
    ) -> None:
        spec = document["spec"]
        self.templates = {t["name"]: t for t in spec["templates"]}
        self.spec, self.stepwell, self.workdir, self.env = spec, stepwell, workdir, env
        given = {p["name"]: p.get("value") for p in spec.get("arguments", {}).get("parameters", [])}
        given.update(parameters or {})
        self.globals: dict[str, str] = {"workflow.uid": uuid.uuid4().hex[:12]}
        self.globals.update({f"workflow.parameters.{k}": str(v) for k, v in given.items()})
        self.commands: list[list[str]] = []
        self.http: list[dict[str, Any]] = []

    @property
    def run_key(self) -> str:
        return f"argo-{self.globals['workflow.uid']}"

    def run(self) -> str:
        try:
            self.template(self.spec["entrypoint"], {})
            status = "Succeeded"
        except TaskFailed:
            status = "Failed"
        self.globals["workflow.status"] = status
        if "onExit" in self.spec:
            self.template(self.spec["onExit"], {})
        return status

    # -- templates ----------------------------------------------------------------------------

    def template(self, name: str, inputs: dict[str, str]) -> dict[str, str]:
        tmpl = self.templates[name]
        scope = {f"inputs.parameters.{k}": v for k, v in inputs.items()}
        if "dag" in tmpl:
            return self._dag(tmpl, scope)
        if "steps" in tmpl:
            for group in tmpl["steps"]:
                for step in group:
                    if self._true(self.substitute(step.get("when", "true"), {})):
                        self.template(step["template"], {})
            return {}
        if "http" in tmpl:
            self.http.append({k: self.substitute(str(v), {}) for k, v in tmpl["http"].items()})
            return {}
        return self._container(tmpl, scope)

    def _dag(self, tmpl: dict[str, Any], scope: dict[str, str]) -> dict[str, str]:
        tasks = {t["name"]: t for t in tmpl["dag"]["tasks"]}
        state: dict[str, str] = {}
        results: dict[str, Any] = {}
        while len(state) < len(tasks):
            ready = [n for n, t in tasks.items() if n not in state
                     and all(d in state for d in _depends_on(t))]  # fmt: skip
            assert ready, f"no task can start in {tmpl['name']}: {sorted(set(tasks) - set(state))}"
            for name in ready:
                state[name] = self._task(tasks[name], state, results, scope)
        local = self._task_scope(results, scope)
        outputs = {}
        for out in tmpl.get("outputs", {}).get("parameters", []):
            source = out["valueFrom"]
            if "parameter" in source:
                outputs[out["name"]] = self.substitute(source["parameter"], local)
            else:
                outputs[out["name"]] = str(self.evaluate(source["expression"], results))
        return outputs

    def _task(self, task: dict[str, Any], state: dict[str, str], results: dict[str, Any],
              scope: dict[str, str]) -> str:  # fmt: skip
        if "depends" in task and not self._depends(task["depends"], state):
            return "Omitted"
        local = self._task_scope(results, scope)
        if "when" in task and not self._true(self.substitute(task["when"], local)):
            return "Skipped"
        args = {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}
        if "withParam" in task:
            items = json.loads(self.substitute(task["withParam"], local))
            results[task["name"]] = [
                self.template(
                    task["template"], self._args(args, {**local, "item": str(i)}, results)
                )
                for i in items
            ]
        else:
            results[task["name"]] = self.template(
                task["template"], self._args(args, local, results)
            )
        return "Succeeded"

    def _args(
        self, args: dict[str, str], scope: dict[str, str], results: dict[str, Any]
    ) -> dict[str, str]:
        return {k: self.substitute(v, scope, results) for k, v in args.items()}

    def _task_scope(self, results: dict[str, Any], scope: dict[str, str]) -> dict[str, str]:
        found = dict(scope)
        for name, outputs in results.items():
            if isinstance(outputs, list):
                found[f"tasks.{name}.outputs.parameters"] = json.dumps(outputs)
            else:
                for key, value in outputs.items():
                    found[f"tasks.{name}.outputs.parameters.{key}"] = value
        return found

    def _container(self, tmpl: dict[str, Any], scope: dict[str, str]) -> dict[str, str]:
        limit = int(tmpl.get("retryStrategy", {}).get("limit", 0))
        out = self.workdir / f"task-{len(self.commands)}"
        for attempt in range(limit + 1):
            argv = [
                self.substitute(a, {**scope, "retries": str(attempt)})
                for a in tmpl["container"]["command"]
            ]
            argv = [self.stepwell if i == 0 else a.replace("/tmp/stepwell/out", str(out))
                    for i, a in enumerate(argv)]  # fmt: skip
            self.commands.append(argv)
            env = {**self.env, **{e["name"]: e["value"] for e in tmpl["container"].get("env", [])}}
            done = subprocess.run(argv, env=env, cwd=self.workdir, capture_output=True,
                                  text=True, timeout=300, check=False)  # fmt: skip
            if done.returncode == 0:
                break
        else:
            raise TaskFailed(f"{argv}:\n{done.stdout}\n{done.stderr}")
        outputs = {}
        for param in tmpl.get("outputs", {}).get("parameters", []):
            path = param["valueFrom"]["path"].replace("/tmp/stepwell/out", str(out))
            outputs[param["name"]] = Path(path).read_text()
            if "globalName" in param:
                self.globals[f"workflow.outputs.parameters.{param['globalName']}"] = outputs[
                    param["name"]
                ]
        return outputs

    # -- text ---------------------------------------------------------------------------------

    def substitute(
        self, text: str, scope: dict[str, str], results: dict[str, Any] | None = None
    ) -> str:
        values = {**self.globals, **scope}

        def replace(match: re.Match[str]) -> str:
            if match.group(1):
                return str(self.evaluate(match.group(2), results or {}))
            return values.get(match.group(2).strip(), match.group(0))

        return _PLACEHOLDER.sub(replace, text)

    def evaluate(self, expression: str, results: dict[str, Any]) -> Any:
        def get(task: str, name: str) -> str:
            outputs = results[task]  # a task that did not run has no outputs: an error
            return str(outputs[name])

        code = _TASK_OUTPUT.sub(lambda m: f"get({m.group(1)!r}, {m.group(2)!r})", expression)
        return eval(_python(code), {"get": get, "true": True})

    def _depends(self, logic: str, state: dict[str, str]) -> bool:
        code = _DEPENDS.sub(lambda m: repr(state[m.group(1)] == m.group(2)), logic)
        return bool(eval(_python(code)))

    def _true(self, text: str) -> bool:
        return bool(eval(_python(text), {"true": True, "false": False}))


def _depends_on(task: dict[str, Any]) -> list[str]:
    return [m.group(1) for m in _DEPENDS.finditer(task.get("depends", ""))]


def _python(text: str) -> str:
    """``&&``/``||`` and ``c ? a : b`` (right-nested) in Python's spelling."""
    text = text.replace("&&", " and ").replace("||", " or ")
    if " ? " not in text:
        return text
    cond, rest = text.split(" ? ", 1)
    value, other = rest.split(" : ", 1)
    return f"(({value}) if ({cond}) else ({_python(other)}))"
