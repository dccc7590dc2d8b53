"""Make ``src/`` importable when stepwell is not installed in the environment."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("stepwell.metadata") is None:  # pragma: no cover - env dependent
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))
