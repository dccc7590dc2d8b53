"""The artifact store: where every value a step assigns to ``self`` is kept.

Three layers, lowest first:

- **Storage** (:class:`Storage`): a narrow byte interface over '/'-separated
  relative keys, one implementation per backend (:class:`LocalStorage`, and
  ``S3Storage`` on an S3-compatible bucket through obstore, imported only when
  used). Backends are chosen by name through :func:`get_storage`, or by a
  datastore URL (a path or ``s3://bucket/prefix``) through :func:`open_storage`.
- **Task logs** (``_logs``): each attempt's stdout/stderr under ``logs/``,
  uploaded in parts while the task runs and as one blob when it ends.
- **ContentStore**: blobs keyed by the BLAKE3 hash of their uncompressed
  bytes, stored once, compressed only when it pays, written in parallel,
  verified on load, memory-mapped when local and uncompressed.
- **Serializers and artifacts**: NumPy arrays as raw buffers, DataFrames and
  Arrow tables as Arrow IPC, everything else pickle protocol 5 with
  out-of-band buffers; :func:`save_artifacts` / :class:`ArtifactSet` save a
  task's values together and load them lazily.

Rules the modules here keep:

- Keys are validated before any filesystem or network call: no absolute
  paths, no '..', no backslashes, no empty segments (no path traversal).
- A write is atomic: readers see the whole blob or none of it; concurrent
  writers of one content-addressed key both succeed.
- NumPy, pandas and pyarrow are imported only when one of their objects is
  (de)serialized, never at import time.
- Errors are :mod:`stepwell.exceptions` classes that name the key (and, when
  the caller gives one, the artifact and task), never raw ``OSError``.
- Loading a pickled artifact runs code: the store must be trusted. Typed
  values come back as copy-on-write views of the stored blob (zero copy until
  written).
- No module-level mutable state beyond the backend-name registry (and a note of
  which process started blake3's thread pool, which does not survive fork).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes

if TYPE_CHECKING:
    from stepwell.store._artifacts import ArtifactRef, ArtifactSet, load_artifact, save_artifacts
    from stepwell.store._cas import (
        BlobBuffer,
        BlobRef,
        ContentStore,
        Payload,
        open_content_store,
        prune_cache,
    )
    from stepwell.store._local import LocalStorage
    from stepwell.store._serializers import (
        Serialized,
        Serializer,
        SerializerRegistry,
        deserialize,
        serialize,
    )
    from stepwell.store._storage import (
        BlobData,
        BlobInfo,
        BufferLike,
        Storage,
        StorageRegistry,
        get_storage,
        open_storage,
        register_storage,
        storage_names,
        validate_key,
    )

__all__ = [
    "ArtifactRef",
    "ArtifactSet",
    "BlobBuffer",
    "BlobData",
    "BlobInfo",
    "BlobRef",
    "BufferLike",
    "ContentStore",
    "LocalStorage",
    "Payload",
    "Serialized",
    "Serializer",
    "SerializerRegistry",
    "Storage",
    "StorageRegistry",
    "deserialize",
    "get_storage",
    "load_artifact",
    "open_content_store",
    "open_storage",
    "prune_cache",
    "register_storage",
    "save_artifacts",
    "serialize",
    "storage_names",
    "validate_key",
]

#: Each name is imported from its module on first use: reading an inline artifact needs
#: the serializers only, not the content store, the integrity checks or a storage backend.
_LAZY = {
    "ArtifactRef": "_artifacts", "ArtifactSet": "_artifacts", "load_artifact": "_artifacts",
    "save_artifacts": "_artifacts",
    "BlobBuffer": "_cas", "BlobRef": "_cas", "ContentStore": "_cas", "Payload": "_cas",
    "open_content_store": "_cas", "prune_cache": "_cas",
    "LocalStorage": "_local",
    "Serialized": "_serializers", "Serializer": "_serializers",
    "SerializerRegistry": "_serializers", "deserialize": "_serializers",
    "serialize": "_serializers",
    "BlobData": "_storage", "BlobInfo": "_storage", "BufferLike": "_storage",
    "Storage": "_storage", "StorageRegistry": "_storage", "get_storage": "_storage",
    "open_storage": "_storage", "register_storage": "_storage", "storage_names": "_storage",
    "validate_key": "_storage",
}  # fmt: skip
__getattr__ = lazy_attributes(__name__, _LAZY)
