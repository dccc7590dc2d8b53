"""Run, resume and spin flows from Python: ``Runner``, ``NBRunner`` and what they return.

Rules: a run always happens in its own process (``python <flow file> run``),
so the caller — a script, a notebook, a test — never needs the flow in its
``__main__`` and never shares its interpreter state with the run. The Runner's
keywords are the options of the flow's own command line, checked before any
process starts. Results are read back through the Client API.
"""

from stepwell.runner._deployer import DeployedFlow, Deployer, TriggeredRun
from stepwell.runner._executing import ExecutingRun, ExecutingTask
from stepwell.runner._notebook import NBRunner
from stepwell.runner._options import RunnerOptionError
from stepwell.runner._runner import Runner

__all__ = [
    "DeployedFlow",
    "Deployer",
    "ExecutingRun",
    "ExecutingTask",
    "NBRunner",
    "Runner",
    "RunnerOptionError",
    "TriggeredRun",
]
