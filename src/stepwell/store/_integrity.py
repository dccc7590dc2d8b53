"""Blob integrity: checking a stored blob, quarantining a damaged one, and "verified" stamps.

**Quarantine.** A blob found damaged (on read, on a save of its content, or by
``stepwell verify --repair``) is moved aside, never deleted::

    quarantine/objects/<2 hex>/<62 hex>/<UTC time>-<random>        the damaged bytes
    quarantine/objects/<2 hex>/<62 hex>/<UTC time>-<random>.json   a note: when, why, by what,
                                                                   and which artifacts used it

Moving it (:meth:`Storage.move`: a rename on a local disk, a server-side copy
and a delete on S3) makes the key absent, so the next save of that content
writes it anew; the note lets a reader that finds the key absent say that it
was quarantined, when and why, instead of only "not found".

**Verified stamps.** Saving content whose key is already stored must not trust
the stored copy blindly, nor re-hash a multi-GB blob on every save. A blob of at
least :data:`STAMP_MIN_BYTES` gets a stamp, ``verified/<2 hex>/<62 hex>``, when
stepwell writes it (its bytes were hashed on the way in) and whenever its bytes
are hashed and found whole (a save of the same content, ``stepwell verify``). The
stamp holds the blob's *fingerprint* (:func:`fingerprint`): its stored size and
the backend's version token (local: inode, mtime and ctime in nanoseconds, which
any write to the file changes; S3: the ETag, which any PUT changes). A save of
existing content takes the blob's fingerprint (one stat, or one HEAD) and reads
the stamp (one small read): equal, the copy is trusted; otherwise the blob is
hashed once more and stamped again, or quarantined. Smaller blobs get no stamp:
hashing one costs about what writing and reading a stamp would, so a save of
existing small content always hashes the stored copy. The choice survives
processes (a forked task is a new process each time), costs one small write per
large blob, and needs no change to the metadata. A process also remembers the
fingerprints it trusted, so saving one content twice reads its stamp once.
Stamps are advisory: a missing or stale one only costs a hash.

Limits: a bit flip on a local disk that changes neither size nor timestamps is
not seen by a stamped save (``stepwell verify`` hashes every blob and finds it);
two processes racing to quarantine and rewrite one key may quarantine the good
copy the other just wrote, which reads as "quarantined" until the next save of
that content writes it again.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import pathlib
from dataclasses import dataclass, field
from typing import Literal

import blake3

from stepwell.exceptions import BlobNotFoundError, CorruptBlobError, StorageError
from stepwell.store import _blobformat as fmt
from stepwell.store._storage import BlobInfo, Storage

#: Blobs at least this big (payload bytes) carry a "verified" stamp.
STAMP_MIN_BYTES = 1 << 20
QUARANTINE_PREFIX = "quarantine/objects/"
STAMP_PREFIX = "verified/"
_STAMP_FORMAT = "stepwell-verified-1"
_READ_CHUNK = 8 << 20
#: At most this many uses of a blob are listed in its quarantine note.
NOTE_USES = 100

BlobStatus = Literal["ok", "missing", "damaged", "unreadable", "invalid"]


@dataclass(frozen=True)
class BlobCheck:
    """What reading one stored blob found.

    ``status``: ``ok`` (whole: it hashes to its key), ``missing``, ``damaged``
    (the bytes changed: wrong header, size or hash) or ``unreadable`` (the
    storage failed to answer; nothing is known about the bytes). ``size`` is the
    payload size its header records; ``stored_bytes`` what was read.
    """

    key: str
    status: BlobStatus
    reason: str = ""
    size: int | None = None
    stored_bytes: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class QuarantineNote:
    """Why a blob was quarantined (or found missing): the ``.json`` next to its bytes."""

    key: str
    at: float
    by: str  # "read", "save" or "verify"
    reason: str
    moved_to: str | None  # None: there were no bytes to move (found missing)
    uses: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "uses": list(self.uses)}, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> QuarantineNote:
        data = json.loads(text)
        return cls(
            key=str(data["key"]),
            at=float(data["at"]),
            by=str(data["by"]),
            reason=str(data["reason"]),
            moved_to=data.get("moved_to"),
            uses=tuple(data.get("uses") or ()),
        )

    @property
    def when(self) -> str:
        """The UTC time, e.g. ``2024-05-01 12:00:03 UTC``."""
        moment = _dt.datetime.fromtimestamp(self.at, _dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

    def describe(self) -> str:
        """One sentence for an error message: who found what, when, and where the bytes went."""
        who = {"verify": "stepwell verify", "read": "a read", "save": "a save of the same value"}
        found = "missing" if self.moved_to is None else f"damaged ({self.reason})"
        where = f"; its bytes were moved to {self.moved_to}" if self.moved_to else ""
        return f"{who.get(self.by, self.by)} found it {found} on {self.when}{where}"


def fingerprint(info: BlobInfo) -> str:
    """What changes whenever a stored blob's bytes may have: size and version token."""
    return f"{info.size}:{info.version or repr(info.modified)}"


def stamp_key(object_key: str) -> str:
    return STAMP_PREFIX + object_key.removeprefix("objects/")


def read_stamp(storage: Storage, object_key: str) -> str | None:
    """The fingerprint a blob had when it was last found whole, or None."""
    try:
        text = bytes(storage.load_bytes(stamp_key(object_key))).decode("ascii", "replace")
    except StorageError:
        return None
    kind, _, value = text.strip().partition(" ")
    return value if kind == _STAMP_FORMAT else None


def write_stamp(storage: Storage, object_key: str, info: BlobInfo) -> None:
    """Record that the blob with this fingerprint was found whole (best effort)."""
    body = f"{_STAMP_FORMAT} {fingerprint(info)}\n".encode()
    with contextlib.suppress(StorageError):
        storage.save_bytes(stamp_key(object_key), body, overwrite=True)


def drop_stamp(storage: Storage, object_key: str) -> None:
    with contextlib.suppress(StorageError):
        storage.delete(stamp_key(object_key))


def quarantine_dir(key: str) -> str:
    return f"{QUARANTINE_PREFIX}{key[:2]}/{key[2:]}/"


def quarantine(
    storage: Storage,
    key: str,
    *,
    reason: str,
    by: str,
    now: float,
    uses: tuple[str, ...] = (),
    note_missing: bool = False,
) -> QuarantineNote | None:
    """Move blob ``key`` aside with a note; None when it was not there (unless
    ``note_missing``: then the note records that it was found missing)."""
    object_key = f"objects/{key[:2]}/{key[2:]}"
    stamp = _dt.datetime.fromtimestamp(now, _dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = f"{quarantine_dir(key)}{stamp}-{os.urandom(3).hex()}"
    moved_to: str | None = target
    try:
        storage.move(object_key, target)
    except BlobNotFoundError:  # quarantined by someone else meanwhile, or never there
        if not note_missing:
            return None
        moved_to = None
    drop_stamp(storage, object_key)
    if len(uses) > NOTE_USES:
        uses = (*uses[:NOTE_USES], f"... and {len(uses) - NOTE_USES} more")
    note = QuarantineNote(key, now, by, reason, moved_to, uses)
    with contextlib.suppress(StorageError):
        storage.save_bytes(f"{target}.json", note.to_json().encode(), overwrite=True)
    return note


def quarantine_notes(storage: Storage, key: str) -> list[QuarantineNote]:
    """The notes of blob ``key``, oldest first (empty when it was never quarantined)."""
    notes = []
    try:
        for note_key in sorted(storage.list(quarantine_dir(key))):
            if note_key.endswith(".json"):
                with contextlib.suppress(StorageError, ValueError, KeyError, TypeError):
                    notes.append(QuarantineNote.from_json(bytes(storage.load_bytes(note_key))))
    except StorageError:
        return []
    return notes


def reason_of(err: CorruptBlobError) -> str:
    """The "why" of a corrupt-blob message (``its content hashes to ...``)."""
    first = err.message.splitlines()[0] if err.message else ""
    return first.split(" is corrupt: ", 1)[-1].rstrip(".") or "corrupt"


def hash_raw_file(path: pathlib.Path, key: str) -> tuple[str, int] | None:
    """(digest, payload size) of an uncompressed blob file, read in large chunks
    (never mapped or held whole); None for a compressed one (the caller decompresses).

    Raises CorruptBlobError for a bad header or a size that does not match it,
    BlobNotFoundError when the file is gone, StorageError when it cannot be read.
    """
    try:
        with open(path, "rb", buffering=0) as f:
            codec, raw_size = fmt.unpack_header(f.read(fmt.HEADER_SIZE), key)
            if codec != fmt.CODEC_NONE:
                return None
            file_size = os.fstat(f.fileno()).st_size
            if file_size - fmt.HEADER_SIZE != raw_size:
                raise fmt.corrupt(key, "", f"it holds {file_size} bytes, expected "
                                  f"{raw_size + fmt.HEADER_SIZE}")  # fmt: skip
            hasher = blake3.blake3(max_threads=_threads(raw_size))
            buffer = bytearray(min(_READ_CHUNK, max(raw_size, 1)))
            view = memoryview(buffer)
            while count := f.readinto(buffer):
                hasher.update(view[:count])
    except StorageError:  # CorruptBlobError from the checks above (an OSError too)
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise BlobNotFoundError(f"No blob with key {key!r} at {path}.", key=key) from None
    except OSError as err:
        raise StorageError(f"Could not read blob {key!r} at {path}: {err}", key=key) from err
    return hasher.hexdigest(), raw_size


def _threads(size: int) -> int:
    return fmt._hash_threads() if size >= _READ_CHUNK else 1
