"""``NBRunner``: run a flow defined in a notebook cell, as Metaflow's ``NBRunner`` does.

The cell's source (as IPython keeps it in ``linecache`` for tracebacks) is cut
after the flow's class, given an ``if __name__ == "__main__"`` block and written
to a temporary file in ``base_dir``; a :class:`Runner` runs that file.

Example (the last line of the cell that defines ``TrainFlow``):
    >>> run = NBRunner(TrainFlow).nbrun(alpha=0.1)   # doctest: +SKIP
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import FlowDefinitionError
from stepwell.runner._executing import ExecutingRun
from stepwell.runner._runner import Runner


def _defining_file(flow: type) -> str:
    """The file name Python compiled the flow's class from (a cell's pseudo-file)."""
    for value in vars(flow).values():
        function = inspect.unwrap(value) if callable(value) else None
        code = getattr(function, "__code__", None)
        if code is not None:
            return str(code.co_filename)
    raise FlowDefinitionError(
        f"NBRunner: {flow.__name__} defines no methods, so its cell cannot be found."
    )


def notebook_flow_source(flow: type) -> str:
    """The flow file for ``flow``: its cell up to the end of the class, plus a main block."""
    filename = _defining_file(flow)
    lines = linecache.getlines(filename)
    if not lines:
        raise FlowDefinitionError(
            f"NBRunner: the source of {flow.__name__} is not available: it was compiled from "
            f"{filename}, which Python did not keep (python -c, exec of a string). NBRunner "
            "runs a flow defined in a notebook cell; for a flow in a file, use "
            "Runner('flow.py').",
            flow=flow.__name__,
        )
    cell = "".join(lines)
    tree = ast.parse(cell)
    found = [
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == flow.__name__
    ]
    if not found or found[-1].end_lineno is None:
        raise FlowDefinitionError(
            f"NBRunner: the cell {filename} does not define class {flow.__name__} at its top "
            "level. Define the whole flow, with its imports, in the cell that calls NBRunner."
        )
    head = cell.splitlines()[: found[-1].end_lineno]
    main = ["", "", 'if __name__ == "__main__":', f"    {flow.__name__}()", ""]
    return "\n".join(head + main)


class NBRunner:
    """Runs a flow class defined in a notebook cell.

    Args:
        flow: the FlowSpec subclass, defined in the same cell with its imports.
        show_output: print the run's output as it comes in ``nbrun()`` / ``run()``.
        profile, env, file_read_timeout, **kwargs: as for :class:`Runner`.
        base_dir: where the temporary flow file goes and the run's working
            directory (default: the current directory).
    """

    def __init__(
        self,
        flow: type,
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        file_read_timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        self.flow = flow
        self.base_dir = str(base_dir) if base_dir is not None else os.getcwd()
        source = notebook_flow_source(flow)
        with tempfile.NamedTemporaryFile(
            "w", prefix=f"{flow.__name__}_", suffix=".py", dir=self.base_dir, delete=False
        ) as handle:
            handle.write(source)
        self.flow_file = Path(handle.name)
        try:
            self.runner = Runner(
                self.flow_file, show_output, profile, env, self.base_dir, file_read_timeout,
                **kwargs,
            )  # fmt: skip
        except BaseException:
            self.flow_file.unlink(missing_ok=True)
            raise
        self.runner._on_cleanup.append(lambda: self.flow_file.unlink(missing_ok=True))

    def nbrun(self, **kwargs: Any) -> Any:
        """Run the flow, wait for the end, clean up and return the Client API's ``Run``."""
        result = self.runner.run(**kwargs)
        self.cleanup()
        return result.run

    def nbresume(self, **kwargs: Any) -> Any:
        """Resume (as ``Runner.resume``), clean up and return the Client API's ``Run``."""
        result = self.runner.resume(**kwargs)
        self.cleanup()
        return result.run

    def run(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.run(**kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.resume(**kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_run(**kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_resume(**kwargs)

    def cleanup(self) -> None:
        """Remove the temporary flow file and the Runner's temporary files."""
        self.runner.cleanup()
