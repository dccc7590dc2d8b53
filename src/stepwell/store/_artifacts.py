"""A task's artifacts: saving a set of named values at once, and loading them lazily."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from stepwell.exceptions import SerializationError
from stepwell.store import _blobformat as fmt
from stepwell.store._serializers import deserialize, serialize

if TYPE_CHECKING:  # an inline value is read without the content store or the storage layer
    from stepwell.store._cas import ContentStore

#: Serialized values up to this size travel inline in the metadata record (key ``inline`` of
#: ``meta``, base64) instead of as blobs: a foreach of thousands of tiny results costs no
#: storage request per value, which matters most on an object store.
INLINE_BYTES = 1024
#: The key of ``ArtifactRef.meta`` that holds an inline payload.
INLINE_META = "inline"


class ArtifactRef(NamedTuple):
    """Where an artifact's value is stored and how to read it back (an immutable record).

    ``key`` is the blob key in the :class:`ContentStore`; ``size`` the
    serialized (uncompressed) size in bytes; ``meta`` the serializer's JSON-able
    encoding details.
    """

    key: str
    serializer: str
    type_name: str
    size: int
    meta: Mapping[str, Any] = MappingProxyType({})

    @property
    def is_inline(self) -> bool:
        """Whether the payload travels with the ref (no blob to read)."""
        return INLINE_META in self.meta

    @property
    def inline(self) -> bytes | None:
        """The payload itself when it is small enough to travel with the ref, else None."""
        data = self.meta.get(INLINE_META)
        return base64.b64decode(data) if data is not None else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, for the metadata store."""
        data = self._asdict()
        data["meta"] = dict(self.meta)
        return data

    @classmethod
    def from_record(cls, record: Any) -> ArtifactRef:
        """The ref of a metadata artifact record (anything with key, serializer,
        type_name, size and ``meta`` as JSON text)."""
        return cls(
            key=record.key,
            serializer=record.serializer,
            type_name=record.type_name,
            size=int(record.size),
            meta=json.loads(record.meta) if record.meta else {},
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtifactRef:
        return cls(
            key=data["key"],
            serializer=data["serializer"],
            type_name=data["type_name"],
            size=int(data["size"]),
            meta=dict(data.get("meta") or {}),
        )


def save_artifacts(
    store: ContentStore, artifacts: Mapping[str, object], *, inline_bytes: int = INLINE_BYTES
) -> dict[str, ArtifactRef]:
    """Serialize every value, then store all blobs in one parallel save.

    Values with equal content share one blob. Values of at most ``inline_bytes``
    serialized bytes are not written at all: their payload travels in the ref
    (``ref.inline``), keyed by the same content hash. Raises SerializationError
    naming the artifact when a value cannot be serialized; nothing is written then.

    Example:
        >>> refs = save_artifacts(store, {"alpha": 0.5, "weights": np.zeros(10)})  # doctest: +SKIP
        >>> refs["weights"].serializer  # doctest: +SKIP
        'numpy'
    """
    names = list(artifacts)
    serialized = []
    for name in names:
        try:
            serialized.append(serialize(artifacts[name]))
        except SerializationError as err:
            fields = {**err.fields, "artifact": name}
            raise SerializationError(f"Artifact {name!r}: {err.message}", **fields) from err
    from stepwell.store._storage import as_buffers  # saving uses the storage layer anyway

    refs: dict[str, ArtifactRef] = {}
    stored = []
    for name, s in zip(names, serialized, strict=True):
        if s.size <= inline_bytes:
            payload = b"".join(as_buffers(s.buffers))
            meta = {**s.meta, INLINE_META: base64.b64encode(payload).decode("ascii")}
            key = fmt.hash_buffers([memoryview(payload)], s.size)
            refs[name] = ArtifactRef(key, s.serializer, s.type_name, s.size, meta)
        else:
            stored.append((name, s))
    blobs = store.save_blobs([s.buffers for _, s in stored])
    for (name, s), blob in zip(stored, blobs, strict=True):
        refs[name] = ArtifactRef(blob.key, s.serializer, s.type_name, blob.size, s.meta)
    return {name: refs[name] for name in names}


def load_artifact(
    store: ContentStore | None, ref: ArtifactRef, *, context: str = "", verify: bool = True
) -> object:
    """Read and deserialize one artifact (``store`` may be None for an inline one).

    ``context`` names it in errors, e.g. ``"artifact 'model' of task TrainFlow/12/train/3"``.
    A NumPy array (and arrays inside pickled values) comes back as a writable,
    copy-on-write view of the stored blob: zero copy until written, and the
    blob itself never changes.
    """
    inline = ref.inline
    meta = ref.meta
    if inline is not None:
        buffer: Any = bytearray(inline)
        meta = {k: v for k, v in meta.items() if k != INLINE_META}
        if verify and fmt.hash_buffers([memoryview(buffer)], len(buffer)) != ref.key:
            raise fmt.corrupt(ref.key, context, "its inline payload does not match its hash")
    elif store is None:
        raise ValueError(f"load_artifact: the blob of {ref.key} needs its content store")
    else:
        buffer = store.load_blob(ref.key, verify=verify, context=context)
    try:
        return deserialize(ref.serializer, buffer, meta)
    except SerializationError as err:
        where = f"{context}: " if context else ""
        fields = {**err.fields, "key": ref.key, "type_name": ref.type_name}
        raise SerializationError(
            f"{where}cannot load the stored {ref.type_name!r} value. {err.message}", **fields
        ) from err


class ArtifactSet(Mapping[str, Any]):
    """A read-only mapping of artifact name to value; each value is read on first access.

    ``refs`` come from :func:`save_artifacts` (or the metadata store).
    ``context`` prefixes error messages, e.g. ``"task TrainFlow/12/train/3"``.
    """

    def __init__(
        self,
        store: ContentStore,
        refs: Mapping[str, ArtifactRef],
        *,
        context: str = "",
        verify: bool = True,
    ) -> None:
        self._store = store
        self._refs = dict(refs)
        self._context = context
        self._verify = verify
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            ref = self._refs[name]  # KeyError for an unknown name, as a Mapping should
            where = f"artifact {name!r} of {self._context}" if self._context else repr(name)
            self._loaded[name] = load_artifact(self._store, ref, context=where, verify=self._verify)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __contains__(self, name: object) -> bool:
        return name in self._refs

    def ref(self, name: str) -> ArtifactRef:
        """The stored reference of ``name``, without loading its value."""
        return self._refs[name]

    def is_loaded(self, name: str) -> bool:
        """Whether ``name``'s value has been read already."""
        return name in self._loaded
