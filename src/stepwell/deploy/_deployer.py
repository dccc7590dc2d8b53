"""What the Deployer's targets share: ``python flow.py ... create`` in a process of its own.

A target's ``create(**options)`` runs the flow's own ``create`` command (as the
Runner runs flows: the flow file imported fresh, its errors its own), each
keyword as the option of that name (``only_json=True`` -> ``--only-json``,
``tags=["a"]`` -> ``--tag a``), and reads back what the command wrote to its
``--deployer-attribute-file``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import StepwellError


def run_create(
    deployer: Any, command: list[str], options: Mapping[str, Any], renamed: Mapping[str, str],
    *, failed: str,
) -> tuple[dict[str, Any], str]:  # fmt: skip
    """Run ``python flow.py [--branch B] [--production] COMMAND --deployer-attribute-file F
    [OPTIONS]``; the attributes it wrote and its stderr. ``failed`` heads the error."""
    argv = [sys.executable, str(deployer.flow_file)]
    if deployer.top_level.get("branch"):
        argv += ["--branch", str(deployer.top_level["branch"])]
    if deployer.top_level.get("production"):
        argv.append("--production")
    with tempfile.TemporaryDirectory() as folder:
        attributes = Path(folder) / "deployed.json"
        argv += [*command, "--deployer-attribute-file", str(attributes)]
        argv += cli_options(options, renamed)
        done = subprocess.run(argv, env=deployer.env, cwd=deployer.cwd, capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0 or not attributes.is_file():
            raise StepwellError(f"{failed}:\n{done.stderr.strip()}")
        return json.loads(attributes.read_text()), done.stderr


def cli_options(options: Mapping[str, Any], renamed: Mapping[str, str]) -> list[str]:
    """Keywords as command-line options: True a flag, a list repeated, None/False left out."""
    argv: list[str] = []
    for key, value in options.items():
        flag = "--" + renamed.get(key, key).replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [a for item in value for a in (flag, str(item))]
        elif value not in (None, False):
            argv += [flag, str(value)]
    return argv
