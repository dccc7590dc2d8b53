"""Starting one run of a deployment: from its code package, marked as its fire's run.

The code package is unpacked once per key under
``STEPWELL_HOME/deployments/code/<key>/`` (written under a temporary name and
renamed, so a half-unpacked package is never used). The run is
``python <script> run`` there, in a new session (it outlives the scheduler),
with ``STEPWELL_FIRE`` saying which fire it is; the scheduler then marks the
fire ``pending:<pid>`` — the handshake that makes each fire one run (see
``stepwell.runtime._fired``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from stepwell.metadata import DeploymentRecord


def unpack_code(home: Path, spec: dict[str, Any]) -> Path:
    """The folder holding the deployment's code package, unpacked (once per key)."""
    from stepwell.runtime._package import package_folder, unpack_package
    from stepwell.store import open_content_store

    key = spec["code_key"]
    return unpack_package(
        open_content_store(spec["datastore"]),
        key,
        package_folder(home, key),
        context="the code package of a deployment",
    )


def run_arguments(deployment: DeploymentRecord, trigger: dict[str, Any]) -> list[str]:
    """``--name value`` for each parameter the trigger's payload sets."""
    mapping: dict[str, str] = {}
    for event in deployment.spec.get("events", []):
        mapping.update(event.get("parameters") or {})
    found: list[str] = []
    payloads = [e.get("payload") or {} for e in trigger.get("events", [])]
    for parameter, field in sorted(mapping.items()):
        for payload in payloads:
            if field in payload:
                value = payload[field]
                text = value if isinstance(value, str) else json.dumps(value)
                found += [f"--{parameter}", text]
                break
    return found


def _branch(spec: dict[str, Any]) -> list[str]:
    """The top-level options that put a @project run on the deployed branch."""
    project = spec.get("project") or {}
    if project.get("is_production"):
        return ["--production"]
    branch = project.get("branch_name") or ""
    return ["--branch", branch[len("test.") :]] if branch.startswith("test.") else []


def start_run(
    home: Path,
    deployment: DeploymentRecord,
    fire_key: str,
    trigger: dict[str, Any],
    *,
    log_dir: Path,
) -> subprocess.Popen[bytes]:
    """Start the run of one fire; the caller marks the fire with the process's pid."""
    folder = unpack_code(home, deployment.spec)
    script = folder / deployment.spec["script"]
    fire = {
        "deployment": deployment.name,
        "fire_key": fire_key,
        "version": deployment.version,
        "trigger": trigger,
    }
    env = {**os.environ, "STEPWELL_FIRE": json.dumps(fire)}
    log_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"{deployment.name}-{fire_key}")
    with (log_dir / f"{safe}.log").open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                str(script),
                *_branch(deployment.spec),
                "run",
                *run_arguments(deployment, trigger),
            ],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a run outlives the scheduler that started it
        )
