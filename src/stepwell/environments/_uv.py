"""Running uv: finding its binary, and turning its failures into messages a user can act on."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from stepwell.exceptions import StepwellError


class EnvironmentBuildError(StepwellError, RuntimeError):
    """A per-step environment could not be resolved, built or started."""

    headline = "A step environment cannot be built"


def uv_binary() -> str:
    """The uv executable: the ``uv`` package's (``stepwell[pypi]``), else one on PATH."""
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found:
            return found
        raise EnvironmentBuildError(
            "@pypi and @conda environments are built with uv, which is not installed. "
            "Install it with: pip install 'stepwell[pypi]'"
        ) from None
    return str(find_uv_bin())


def run_uv(args: Sequence[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``uv ARGS``; its output captured (uv's own ``UV_*`` settings apply)."""
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)  # uv must act on the --python it is given, never the caller's
    return subprocess.run(
        [uv_binary(), *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )


def uv_reason(stderr: str, limit: int = 25) -> str:
    """uv's explanation, indented, without its hints about uv's own flags."""
    lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
    kept = [line for line in lines if "--" not in line or "hint" not in line.lower()]
    if len(kept) > limit:
        kept = [*kept[:limit], f"... ({len(kept) - limit} more lines)"]
    return "\n".join(f"    {line}" for line in kept)
