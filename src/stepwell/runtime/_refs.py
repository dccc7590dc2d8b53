"""Artifact refs (the store's view) <-> artifact records (the metadata's view)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def ref_of(record: Any) -> Any:
    """The store's ``ArtifactRef`` for a metadata ``ArtifactRecord``."""
    from stepwell.store import ArtifactRef

    return ArtifactRef(
        key=record.key,
        serializer=record.serializer,
        type_name=record.type_name,
        size=record.size,
        meta=json.loads(record.meta) if record.meta else {},
    )


def refs_of(records: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: ArtifactRef}`` for ``{name: ArtifactRecord}``."""
    return {name: ref_of(record) for name, record in records.items()}


def record_of(name: str, ref: Any) -> Any:
    """The metadata's ``ArtifactRecord`` for an artifact ``name`` stored at ``ref``."""
    from stepwell.metadata import ArtifactRecord

    return ArtifactRecord(
        name=name,
        key=ref.key,
        serializer=ref.serializer,
        type_name=ref.type_name,
        size=ref.size,
        meta=json.dumps(dict(ref.meta), sort_keys=True),
    )
