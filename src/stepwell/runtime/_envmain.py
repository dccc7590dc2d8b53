"""Entry of a step environment's zygote: ``ENV/bin/python -m stepwell.runtime._envmain FILE``.

Loads the flow file as ``__main__`` (so classes it defines pickle and unpickle
as in the run's own tasks), without the command line: a main block's
``Flow()`` hands the flow class to the zygote (``MAIN_BLOCK``), and a file
without one is searched for its flow. Importing only the task worker keeps the
zygote's start — what a cached environment adds to a run — short.
"""

from __future__ import annotations

import sys
import traceback
import types
from pathlib import Path


def main() -> None:
    from stepwell.flow import flows_in_module
    from stepwell.flow._flowspec import MAIN_BLOCK
    from stepwell.runtime._envexec import environment_zygote_main

    file = Path(sys.argv[1]).resolve()
    module = types.ModuleType("__main__")
    module.__file__ = str(file)
    sys.modules["__main__"] = module
    sys.argv = [str(file), "_zygote"]
    sys.path.insert(0, str(file.parent))
    MAIN_BLOCK.set(environment_zygote_main)
    try:
        exec(compile(file.read_bytes(), str(file), "exec"), module.__dict__)
    except Exception:  # the driver shows this output when the zygote ends
        print(f"The flow file cannot be loaded: {file}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    flows = flows_in_module(module)
    if len(flows) != 1:
        print(f"{file} must define exactly one FlowSpec subclass.", file=sys.stderr)
        sys.exit(1)
    environment_zygote_main(flows[0])


if __name__ == "__main__":
    main()
