"""The code half of a @cache key: a step's source and the flow-package code it names.

Covered, read from source with ``inspect`` and walked with ``ast``:

- the step function's source;
- every name it uses, resolved where Python would resolve it, when the value
  is defined in a file under the flow's package directory (the directory of
  the flow file, as the code package takes it): methods, properties,
  static and class methods of the flow class reached as ``self.NAME`` (steps
  excepted), and module-level functions and classes reached as ``NAME`` or
  ``module.NAME`` (a module of the package) — each with its whole source, and
  what *that* source names, recursively;
- constants those names hold (``int``, ``float``, ``str``, ``bytes``, ``bool``,
  ``None`` and tuples/frozensets of them), as their ``repr``: a module-level
  ``THRESHOLD = 3`` or a class attribute ``self.THRESHOLD``.

Not covered: code outside the package (installed libraries, the standard
library, stepwell itself), objects that are neither functions, classes nor
constants (an instance at module level, a ``functools.partial``, a lambda
held in a dict), names reached through ``getattr`` with a computed name, files
and environment variables the step reads. A function whose source cannot be
read (defined in ``exec``) counts by its bytecode instead, without following
what it names.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import linecache
import marshal
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

from stepwell.flow import is_step

_CONSTANTS = (int, float, complex, str, bytes, bool, type(None))


class StepCode:
    """The code digest of each step of one flow class (computed once per step)."""

    def __init__(self, flow_cls: type, package_root: Path) -> None:
        self.flow_cls = flow_cls
        self.root = str(package_root.resolve())
        self._digests: dict[str, str] = {}
        self._sources = _Sources()

    def digest(self, step_name: str) -> str:
        """SHA-256 (hex) of everything the step's code is taken to be (see the module doc)."""
        found = self._digests.get(step_name)
        if found is None:
            found = hashlib.sha256("\0".join(self.parts(step_name)).encode()).hexdigest()
            self._digests[step_name] = found
        return found

    def parts(self, step_name: str) -> list[str]:
        """The labelled pieces the digest hashes (for tests and debugging)."""
        walker = _Walker(self.flow_cls, self.root, self._sources)
        walker.add_function(f"step {step_name}", getattr(self.flow_cls, step_name))
        return walker.parts


class _Sources:
    """Each source file parsed once: its lines, and its functions and classes by first line.

    A function is found by its code object's file and first line (the line of its
    first decorator, if any), which is much cheaper than ``inspect.getsource``
    once a file has many steps.
    """

    def __init__(self) -> None:
        self._files: dict[str, tuple[list[str], dict[int, ast.AST]]] = {}

    def function(self, code: types.CodeType) -> tuple[str, ast.AST] | None:
        """The source and the syntax tree of the function of ``code``; None if not found."""
        lines, index = self._index(code.co_filename)
        node = index.get(code.co_firstlineno)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        if node.name != code.co_name or node.end_lineno is None:
            return None
        return "".join(lines[code.co_firstlineno - 1 : node.end_lineno]), node

    def _index(self, filename: str) -> tuple[list[str], dict[int, ast.AST]]:
        found = self._files.get(filename)
        if found is None:
            lines = linecache.getlines(filename)
            index: dict[int, ast.AST] = {}
            try:
                tree = ast.parse("".join(lines))
            except (SyntaxError, ValueError):
                tree = ast.Module(body=[], type_ignores=[])
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    index[first] = node
            found = self._files[filename] = (lines, index)
        return found


def _is_constant(value: Any) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(_is_constant(v) for v in value)
    return isinstance(value, _CONSTANTS)


class _Walker:
    """Collects source pieces, following names from each piece found."""

    def __init__(self, flow_cls: type, root: str, sources: _Sources) -> None:
        self.flow_cls = flow_cls
        self.root = root
        self._sources = sources
        self.parts: list[str] = []
        self._seen: set[int] = set()

    # -- what counts as the package ------------------------------------------------
    def _in_package(self, obj: Any) -> bool:
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        if isinstance(obj, types.ModuleType):
            module = obj
        name = getattr(module, "__name__", "")
        if name == "stepwell" or name.startswith("stepwell."):
            return False
        code = getattr(obj, "__code__", None)
        file = code.co_filename if code is not None else getattr(module, "__file__", None)
        if not file:
            return False
        try:
            path = str(Path(file).resolve())
        except OSError:
            return False
        return path == self.root or path.startswith(self.root + "/")

    # -- pieces ----------------------------------------------------------------------
    def add_function(self, label: str, func: Any) -> None:
        func = inspect.unwrap(func)
        if id(func) in self._seen or not hasattr(func, "__code__"):
            return
        self._seen.add(id(func))
        found = self._sources.function(func.__code__)
        if found is None:  # e.g. a lambda: the slower, general way
            try:
                source = textwrap.dedent(inspect.getsource(func))
                found = source, ast.parse(source)
            except (OSError, TypeError, SyntaxError):
                digest = hashlib.sha256(marshal.dumps(func.__code__)).hexdigest()
                self.parts.append(f"{label} (bytecode) {digest}")
                return
        self.parts.append(f"{label}\n{found[0]}")
        self._follow(found[1], func.__globals__)

    def _add_class(self, label: str, cls: type) -> None:
        if id(cls) in self._seen:
            return
        self._seen.add(id(cls))
        try:
            source = textwrap.dedent(inspect.getsource(cls))
            tree = ast.parse(source)
        except (OSError, TypeError, SyntaxError):
            self.parts.append(f"{label} (no source) {cls.__qualname__}")
            return
        self.parts.append(f"{label}\n{source}")
        module = sys.modules.get(cls.__module__)
        self._follow(tree, vars(module) if module is not None else {})

    def _add_value(self, label: str, value: Any) -> None:
        """A value a name resolved to: followed if it is package code, kept if a constant."""
        if _is_constant(value):
            self.parts.append(f"{label} = {value!r}")
        elif isinstance(value, (staticmethod, classmethod)):
            self._add_value(label, value.__func__)
        elif isinstance(value, property):
            for accessor in (value.fget, value.fset, value.fdel):
                if accessor is not None and self._in_package(accessor):
                    self.add_function(label, accessor)
        elif isinstance(value, (types.FunctionType, types.MethodType)):
            if self._in_package(value):
                self.add_function(label, value)
        elif isinstance(value, type) and value is not self.flow_cls and self._in_package(value):
            self._add_class(label, value)

    def _add_member(self, name: str) -> None:
        """``self.NAME``: a member the flow's package defines on the flow class, not a step."""
        try:
            value = inspect.getattr_static(self.flow_cls, name)
        except AttributeError:
            return  # an artifact, set by a step at run time
        if is_step(value):
            return  # another step (self.next(self.train)): it has its own key
        owner = next((c for c in self.flow_cls.__mro__ if name in vars(c)), None)
        if owner is not None and self._in_package(owner):
            self._add_value(f"self.{name}", value)

    # -- names in a piece of source --------------------------------------------------
    def _follow(self, tree: ast.AST, namespace: dict[str, Any]) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                    self._add_member(node.attr)
                    continue
                owner = _resolve(base, namespace)
                if owner is self.flow_cls:
                    self._add_member(node.attr)
                elif isinstance(owner, types.ModuleType) and self._in_package(owner):
                    value = getattr(owner, node.attr, None)
                    self._add_value(ast.unparse(node), value)
            elif (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and node.id in namespace
            ):
                self._add_value(node.id, namespace[node.id])


def _resolve(node: ast.AST, namespace: dict[str, Any]) -> Any:
    """The value of a ``name`` or ``name.attr...`` expression in ``namespace`` (None if not)."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        if isinstance(base, types.ModuleType):
            return getattr(base, node.attr, None)
    return None
