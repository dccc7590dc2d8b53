"""``FlowSpec``: the base class of every flow.

A subclass's ``@step`` methods are the flow's steps. At class-definition time
nothing runs; instantiating the class from the flow file's ``__main__``
(``MyFlow()``) starts the command line. Inside a task the runtime creates the
instance with ``use_cli=False`` and attaches a :class:`TaskState`, through
which artifacts are read and transitions recorded.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple, Protocol

from stepwell.exceptions import FlowAttributeError, FlowDefinitionError, StepwellError
from stepwell.flow._parameters import Parameter
from stepwell.flow._step import is_step, step_marker

#: Attribute names on a flow instance that are stepwell's, never artifacts.
INTERNAL_PREFIX = "_sw_"


#: What ``Flow()`` in a flow file's main block does in this process: run the command
#: line (None, the default), or a runtime's own entry — a step environment's zygote
#: loads the flow file as ``__main__`` and takes over there.
MAIN_BLOCK: ContextVar[Callable[[type], Any] | None] = ContextVar(
    "stepwell_main_block", default=None
)


class Transition:
    """What ``self.next(...)`` recorded at run time."""

    __slots__ = ("condition", "foreach", "num_parallel", "steps")

    def __init__(
        self,
        steps: tuple[str, ...],
        foreach: str | None = None,
        condition: str | None = None,
        num_parallel: int | None = None,
    ) -> None:
        self.steps = steps
        self.foreach = foreach
        self.condition = condition
        self.num_parallel = num_parallel

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k in ("foreach", "condition", "num_parallel")
            if getattr(self, k) is not None
        )
        return f"Transition({self.steps!r}{extra})"


class TaskState(Protocol):
    """What the runtime attaches to a flow instance while a task runs."""

    def read_artifact(self, name: str) -> Any: ...
    def has_artifact(self, name: str) -> bool: ...
    def record_next(self, transition: Transition) -> None: ...
    def foreach_stack(self) -> list[tuple[int, int, Any]]: ...
    def foreach_input(self) -> Any: ...
    def merge_artifacts(
        self, flow: FlowSpec, inputs: Any, include: Sequence[str], exclude: Sequence[str]
    ) -> None: ...


class ForeachFrame(NamedTuple):
    """One enclosing foreach (or @parallel gang) in a task's ``_foreach_stack`` artifact."""

    index: int  # type: ignore[assignment]  # the field Metaflow's frames name 'index'
    num_splits: int


#: Artifacts every successful task keeps, as in Metaflow; names a user may read.
IMPLICIT_ARTIFACTS = ("_task_ok", "_success", "_foreach_stack")

#: What a step may not assign on ``self``: the flow's own API (values stepwell gives the
#: step, or methods an artifact of that name would hide).
RESERVED_ATTRIBUTES = frozenset(
    {"name", "script_name", "input", "index", "next", "foreach_stack", "merge_artifacts"}
)


class FlowStep:
    """One step as ``for step in self`` yields it: its name, decorators and docstring.

    Calling it runs the step method bound to the flow (Metaflow's legacy
    iteration yields the step functions themselves).
    """

    __slots__ = ("__dict__", "_bound", "decorators", "name")

    def __init__(self, name: str, bound: Callable[..., Any]) -> None:
        from stepwell.flow._decorators import step_decorators

        self.name = name
        self._bound = bound
        self.decorators = step_decorators(bound)
        self.__doc__ = bound.__doc__

    @property
    def is_start(self) -> bool:
        return step_marker(self._bound).start or self.name == "start"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._bound(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<step {self.name}>"


def _is_class_constant(cls: type, name: str) -> bool:
    """Is ``name`` a plain value set in the class body of a user's flow (not a method)?"""
    if name.startswith("_"):
        return False
    for klass in cls.__mro__:
        if klass is FlowSpec or klass is object:
            return False
        if name in klass.__dict__:
            value = klass.__dict__[name]
            return not (callable(value) or hasattr(value, "__get__"))
    return False


def _step_name(target: Any) -> str:
    name = getattr(target, "__name__", None)
    if not isinstance(name, str) or not is_step(target):
        raise FlowDefinitionError(f"self.next() takes steps such as self.train; got {target!r}.")
    return name


class FlowSpec:
    """Base class of a flow. Subclass it and mark methods with ``@step``.

    Example:
        >>> from stepwell import FlowSpec, step
        >>> class HelloFlow(FlowSpec):
        ...     @step
        ...     def start(self):
        ...         self.message = "hello"
        ...         self.next(self.end)
        ...     @step
        ...     def end(self):
        ...         print(self.message)
        >>> if __name__ == "__main__":
        ...     HelloFlow()
    """

    _sw_state: TaskState | None = None

    def __init__(self, use_cli: bool = True) -> None:
        if use_cli:
            handler = MAIN_BLOCK.get()
            if handler is not None:  # a runtime process loading the flow (never returns)
                handler(type(self))
                return
            # The CLI layer sits above this one; it is found by name, not imported.
            cli = importlib.import_module("stepwell.cli._flowcli")
            cli.run_flow_cli(type(self))

    # -- class-level introspection -------------------------------------------------
    @classmethod
    def _sw_steps(cls) -> dict[str, Callable[..., Any]]:
        """The flow's steps by name, base classes first, in definition order."""
        steps: dict[str, Callable[..., Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in klass.__dict__.items():
                if is_step(value):
                    steps[name] = value
        return steps

    @classmethod
    def _sw_parameters(cls) -> dict[str, Parameter]:
        """Parameters, IncludeFiles and Configs by attribute name."""
        found: dict[str, Parameter] = {}
        for klass in reversed(cls.__mro__):
            for name, value in klass.__dict__.items():
                if isinstance(value, Parameter):
                    found[name] = value
        return found

    @property
    def name(self) -> str:
        """The flow's name (its class name)."""
        return type(self).__name__

    @property
    def script_name(self) -> str:
        """The file name of the flow's script, e.g. ``train.py``."""
        return inspect.getfile(type(self)).rsplit("/", 1)[-1]

    def __iter__(self) -> Iterator[FlowStep]:
        """The flow's steps in definition order, each with ``.name`` and ``.decorators``."""
        for name in type(self)._sw_steps():
            yield FlowStep(name, getattr(self, name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in RESERVED_ATTRIBUTES:
            raise FlowAttributeError(
                f"self.{name} = ... : '{name}' is part of the flow's API "
                f"({', '.join(sorted(RESERVED_ATTRIBUTES))} are), so an artifact cannot take "
                f"that name. Store the value under another name, e.g. self.{name}_value.",
                attribute=name,
            )
        if _is_class_constant(type(self), name):
            raise FlowAttributeError(
                f"self.{name} = ... : '{name}' is a class-level attribute of "
                f"{type(self).__name__}, and flow-level attributes and Parameters are not "
                "modifiable inside a step. Assign the value to another name, e.g. "
                f"self.{name.lower()}_value.",
                attribute=name,
            )
        object.__setattr__(self, name, value)

    # -- run-time API ---------------------------------------------------------------
    def _sw_task_state(self) -> TaskState:
        state = self._sw_state
        if state is None:
            raise StepwellError(
                "This flow object is not running a step: artifacts, self.next() and "
                "self.input are available only inside a step run by stepwell."
            )
        return state

    def _sw_read_artifact(self, name: str | None) -> Any:
        assert name is not None
        return self._sw_task_state().read_artifact(name)

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: an artifact from a parent task.
        if name.startswith("__") or name.startswith(INTERNAL_PREFIX):
            raise AttributeError(name)
        state = self.__dict__.get("_sw_state")
        if state is None or not state.has_artifact(name):
            raise AttributeError(f"'{type(self).__name__}' has no artifact or attribute '{name}'")
        value = state.read_artifact(name)
        self.__dict__[name] = value
        return value

    def next(
        self,
        *dsts: Any,
        foreach: str | None = None,
        condition: str | None = None,
        num_parallel: int | None = None,
    ) -> None:
        """Name the step(s) that run after this one.

        ``self.next(self.a)``; a static branch ``self.next(self.a, self.b)``;
        a foreach ``self.next(self.a, foreach="items")``; a switch
        ``self.next({"x": self.a, "y": self.b}, condition="var")``; a gang of
        ``N`` tasks into a ``@parallel`` step ``self.next(self.a, num_parallel=N)``.
        """
        if len(dsts) == 1 and isinstance(dsts[0], Mapping):
            if condition is None:
                raise FlowDefinitionError(
                    "self.next() with a dict of cases is a switch and needs condition='<artifact>'."
                )
            cases = {str(k): _step_name(v) for k, v in dsts[0].items()}
            value = getattr(self, condition)
            key = str(value)
            if key not in cases:
                raise FlowDefinitionError(
                    f"Switch on self.{condition} = {value!r} matches no case; "
                    f"cases: {', '.join(sorted(cases))}."
                )
            transition = Transition((cases[key],), condition=condition)
        else:
            if not dsts:
                raise FlowDefinitionError("self.next() needs at least one step.")
            steps = tuple(_step_name(d) for d in dsts)
            transition = Transition(steps, foreach=foreach, num_parallel=num_parallel)
        self._sw_task_state().record_next(transition)

    @property
    def input(self) -> Any:
        """The item of the foreach this task was split on."""
        return self._sw_task_state().foreach_input()

    @property
    def index(self) -> int | None:
        """This task's position in the innermost foreach (None outside a foreach)."""
        stack = self._sw_task_state().foreach_stack()
        return stack[-1][0] if stack else None

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """``(index, num_splits, value)`` for each enclosing foreach, outermost first."""
        return self._sw_task_state().foreach_stack()

    def merge_artifacts(
        self,
        inputs: Iterable[Any],
        exclude: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
    ) -> None:
        """In a join, copy artifacts that every input agrees on into this task.

        Artifacts already set in this step are left alone. An artifact whose
        value differs between inputs raises :class:`MergeConflictError` unless
        it is set first or excluded. ``include`` and ``exclude`` are exclusive.
        """
        if include and exclude:
            raise FlowDefinitionError("merge_artifacts() takes include= or exclude=, not both.")
        self._sw_task_state().merge_artifacts(
            self, inputs, list(include or ()), list(exclude or ())
        )
