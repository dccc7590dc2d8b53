"""Find the FlowSpec class in a flow file or module without running its ``__main__`` block."""

from __future__ import annotations

import importlib.util
import sys
import zlib
from pathlib import Path
from types import ModuleType

from stepwell.exceptions import FlowDefinitionError
from stepwell.flow._flowspec import FlowSpec


def flows_in_module(module: ModuleType) -> list[type[FlowSpec]]:
    """FlowSpec subclasses defined (not merely imported) in ``module``."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, FlowSpec)
        and obj is not FlowSpec
        and obj.__module__ == module.__name__
    ]


def import_flow_file(path: str | Path) -> ModuleType:
    """Import a flow file as a module named after its path (its ``__main__`` block does not run)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise FlowDefinitionError(f"Flow file {str(path)!r} does not exist.", file=str(path))
    digest = f"{zlib.crc32(str(file).encode()):08x}"  # a stable, short module-name suffix
    name = f"_stepwell_flow_{file.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise FlowDefinitionError(f"Cannot import {file}: not a Python file.", file=str(file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_flow_class(path: str | Path, name: str | None = None) -> type[FlowSpec]:
    """The FlowSpec subclass defined in the file at ``path`` (``name`` picks one of several)."""
    module = import_flow_file(path)
    flows = flows_in_module(module)
    if name is not None:
        for flow in flows:
            if flow.__name__ == name:
                return flow
        found = ", ".join(f.__name__ for f in flows) or "none"
        raise FlowDefinitionError(f"{path} defines no flow named '{name}' (flows found: {found}).")
    if not flows:
        raise FlowDefinitionError(
            f"{path} defines no FlowSpec subclass. A flow is a class deriving from "
            "stepwell.FlowSpec with @step methods."
        )
    if len(flows) > 1:
        names = ", ".join(f.__name__ for f in flows)
        raise FlowDefinitionError(
            f"{path} defines several flows ({names}); name one, e.g. --flow {flows[0].__name__}."
        )
    return flows[0]
