"""Artifact refs (the store's view) <-> artifact records (the metadata's view)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ref_of(record: Any) -> Any:
    """The store's ``ArtifactRef`` for a metadata ``ArtifactRecord``."""
    from stepwell.store import ArtifactRef

    return ArtifactRef.from_record(record)


def refs_of(records: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: ArtifactRef}`` for ``{name: ArtifactRecord}``."""
    return {name: ref_of(record) for name, record in records.items()}


def record_of(name: str, ref: Any) -> Any:
    """The metadata's ``ArtifactRecord`` for an artifact ``name`` stored at ``ref``."""
    from stepwell.metadata import ArtifactRecord

    return ArtifactRecord.from_ref(name, ref)
