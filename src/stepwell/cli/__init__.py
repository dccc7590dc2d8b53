"""The command line: thin click commands that parse, call and render.

Two entry points: ``python flow.py <command>`` (``_flowcli.run_flow_cli``,
started by instantiating a FlowSpec in the flow file's ``__main__``) and the
``stepwell`` console script (:func:`main`). No business logic lives here;
known errors print as headline + location + message with no traceback.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """The ``stepwell`` console script (imported only when it runs)."""
    from stepwell.cli._main import main as stepwell_main

    stepwell_main()
