"""The command line: thin click commands that parse, call and render.

Two entry points: ``python flow.py <command>`` (:func:`run_flow_cli`, started
by instantiating a FlowSpec in the flow file's ``__main__``) and the
``stepwell`` console script (:func:`main`). No business logic lives here;
known errors print as headline + location + message with no traceback.
"""

from stepwell.cli._main import main

__all__ = ["main"]
