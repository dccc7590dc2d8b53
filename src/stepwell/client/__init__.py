"""The Client API: read past runs — Flow -> Run -> Step -> Task -> DataArtifact.

Metaflow's documented client API (names and behaviour), on stepwell's
metadata and artifact stores. Every object is addressed by a pathspec
(``Flow/run_id/step/task_id/artifact``), is a container of its children
(``obj['child']``, iteration, ``in``), and pickles as its pathspec.

Rules its modules keep:

- Read through :mod:`stepwell.metadata` and :mod:`stepwell.store` only; the
  store location comes from :func:`stepwell.config.load_settings`, opened
  lazily once per process (``_backend.py``). Nothing here imports the runtime
  on the common paths (it costs ~100 ms); logs import it when read.
- Listings are paginated SQL queries (``MetadataStore.list_runs``); no code
  path reads every run of a flow.
- The current namespace is process state, as in Metaflow (``_namespace.py``);
  :func:`reset_client` puts it and the backend back to their defaults.
- Unknown objects raise :class:`~stepwell.exceptions.NotFoundError` (also a
  ``KeyError``) naming the object, the namespace and the closest names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes
from stepwell.client._backend import reset_client
from stepwell.client._errors import (
    ArtifactNotFoundError,
    InvalidPathspecError,
    NamespaceMismatchError,
    TagError,
)
from stepwell.client._namespace import default_namespace, get_namespace, namespace
from stepwell.client._objects import (
    DataArtifact,
    Flow,
    Metadata,
    Metaflow,
    Run,
    Step,
    Task,
)

if TYPE_CHECKING:
    from stepwell.client._compare import RunComparison, compare_runs

__all__ = [
    "ArtifactNotFoundError",
    "DataArtifact",
    "Flow",
    "InvalidPathspecError",
    "Metadata",
    "Metaflow",
    "NamespaceMismatchError",
    "Run",
    "RunComparison",
    "Step",
    "TagError",
    "Task",
    "compare_runs",
    "default_namespace",
    "get_namespace",
    "namespace",
    "reset_client",
]

#: Comparing runs is rare next to reading one: its module loads on first use.
__getattr__ = lazy_attributes(__name__, {"RunComparison": "_compare", "compare_runs": "_compare"})
