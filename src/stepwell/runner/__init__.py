"""Run and resume flows from Python: ``Runner`` and the ``ExecutingRun`` it returns.

Rules: a run always happens in its own process (``python <flow file> run``),
so the caller — a script, a notebook, a test — never needs the flow in its
``__main__`` and never shares its interpreter state with the run. Results are
read back through the Client API.
"""

from stepwell.runner._executing import ExecutingRun
from stepwell.runner._runner import Runner

__all__ = ["ExecutingRun", "Runner"]
