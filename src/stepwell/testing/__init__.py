"""The shipped test kit: run flows against private stores, and backend conformance suites.

Rules: everything here writes only under the directory it is given; nothing
is imported by stepwell's own runtime.
"""

from stepwell.testing._runs import FlowRun, run_flow

__all__ = ["FlowRun", "run_flow"]
