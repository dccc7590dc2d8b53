"""Turning artifacts into buffers and back, by an ordered registry of serializers.

:func:`serialize` asks each serializer in order whether it takes the object
(``numpy``, then ``arrow``, then the ``pickle`` fallback); the first whose
``dump`` succeeds wins. A serializer's ``dump`` may raise ``NotImplementedError``
to decline an object it cannot represent after all; the next one is tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from stepwell.exceptions import SerializationError, StepwellError
from stepwell.store._pickle_serializer import PickleSerializer
from stepwell.store._typed_serializers import ArrowSerializer, NumpySerializer

if TYPE_CHECKING:  # the storage layer is not needed to (de)serialize
    from stepwell.store._storage import BufferLike


@runtime_checkable
class Serializer(Protocol):
    """One way of turning objects into buffers.

    ``dump`` returns the payload as a list of buffers (their concatenation is
    what gets stored) and a JSON-able ``meta`` dict that ``load`` receives back
    together with the payload as one buffer.
    """

    name: str

    def can_serialize(self, obj: object) -> bool: ...

    def dump(self, obj: Any) -> tuple[list[BufferLike], dict[str, Any]]: ...

    def load(self, buffer: BufferLike, meta: Mapping[str, Any]) -> object: ...


class Serialized(NamedTuple):  # a tuple: reading values never pays for a dataclass
    """An object turned into buffers, with what is needed to turn it back."""

    serializer: str
    type_name: str
    buffers: list[BufferLike]
    meta: dict[str, Any]

    @property
    def size(self) -> int:
        """Payload size in bytes (the buffers' total length)."""
        return sum(memoryview(buffer).nbytes for buffer in self.buffers)


def type_name(obj: object) -> str:
    """``module.qualname`` of the object's type, e.g. ``numpy.ndarray``."""
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


class SerializerRegistry:
    """An ordered list of serializers; the first that takes an object serializes it."""

    def __init__(self, serializers: Iterable[Serializer]) -> None:
        self._serializers = list(serializers)
        self._by_name = {s.name: s for s in self._serializers}

    @property
    def names(self) -> list[str]:
        return [s.name for s in self._serializers]

    def serialize(self, obj: object) -> Serialized:
        for serializer in self._serializers:
            if not serializer.can_serialize(obj):
                continue
            try:
                buffers, meta = serializer.dump(obj)
            except NotImplementedError:
                continue
            return Serialized(serializer.name, type_name(obj), buffers, meta)
        raise SerializationError(
            f"No serializer takes a value of type {type_name(obj)!r} "
            f"(tried: {', '.join(self.names)}).",
            type_name=type_name(obj),
        )

    def deserialize(self, serializer: str, buffer: BufferLike, meta: Mapping[str, Any]) -> object:
        try:
            chosen = self._by_name[serializer]
        except KeyError:
            raise SerializationError(
                f"Unknown serializer {serializer!r} (known: {', '.join(self.names)}). "
                "The artifact was written by a newer or extended stepwell.",
                serializer=serializer,
            ) from None
        try:
            return chosen.load(buffer, meta)
        except StepwellError:
            raise
        except Exception as err:
            raise SerializationError(
                f"The {serializer!r} serializer could not load the value: "
                f"{type(err).__name__}: {err}",
                serializer=serializer,
            ) from err


DEFAULT_SERIALIZERS = SerializerRegistry([NumpySerializer(), ArrowSerializer(), PickleSerializer()])


def serialize(obj: object, registry: SerializerRegistry = DEFAULT_SERIALIZERS) -> Serialized:
    """Turn ``obj`` into buffers with the first serializer that takes it.

    Raises:
        SerializationError: nothing can serialize it (e.g. it cannot be pickled);
            the message names the type and what to do.
    """
    return registry.serialize(obj)


def deserialize(
    serializer: str,
    buffer: BufferLike,
    meta: Mapping[str, Any],
    registry: SerializerRegistry = DEFAULT_SERIALIZERS,
) -> object:
    """Turn a payload written by the serializer named ``serializer`` back into an object.

    Typed payloads (NumPy, Arrow) and pickled out-of-band buffers are used in
    place: when ``buffer`` is a memory map, the result shares its memory.
    """
    return registry.deserialize(serializer, buffer, meta)
