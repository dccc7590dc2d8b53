"""``Run.code`` / ``Task.code``: the code package a run ran, read back from its datastore."""

from __future__ import annotations

import io
import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tarfile

_INFO = "INFO"


class CodePackage:
    """The flow's directory as the run stored it (Metaflow's ``MetaflowCode``).

    Attributes: ``path`` (where the package is stored), ``info`` (the flow,
    its script and the stepwell version), ``flowspec`` (the flow file's
    source), ``tarball`` (a :class:`tarfile.TarFile` of the package).

    Example:
        >>> print(Run("TrainFlow/12").code.flowspec)  # doctest: +SKIP
    """

    def __init__(self, store: Any, key: str, pathspec: str) -> None:
        self._store = store
        self.key = key
        self.pathspec = pathspec

    @cached_property
    def _bytes(self) -> bytes:
        return bytes(self._store.load_blob(self.key, context=f"code package of {self.pathspec}"))

    @property
    def path(self) -> str:
        """The package's location in the datastore."""
        return f"{self._store.storage.root_url}/{self._store.object_key(self.key)}"

    @property
    def tarball(self) -> tarfile.TarFile:
        """The package, opened as a tar archive."""
        import tarfile  # late: most readers never open a package

        return tarfile.open(fileobj=io.BytesIO(self._bytes), mode="r")

    def _member(self, name: str) -> bytes:
        with self.tarball as tar:
            handle = tar.extractfile(name)
            if handle is None:
                raise KeyError(name)
            return handle.read()

    @cached_property
    def info(self) -> dict[str, Any]:
        """``flow_name``, ``script`` (the flow file's path in the package), ``stepwell_version``."""
        return dict(json.loads(self._member(_INFO)))

    @property
    def script_name(self) -> str:
        return str(self.info["script"])

    @cached_property
    def flowspec(self) -> str:
        """The source of the flow file."""
        return self._member(self.script_name).decode("utf-8")

    def extract(self, directory: str | Path) -> Path:
        """Unpack the package into ``directory`` (created if needed); return it."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        with self.tarball as tar:
            tar.extractall(target, filter="data")
        return target

    def __repr__(self) -> str:
        return f"CodePackage({self.pathspec!r}, key={self.key[:12]}...)"


def code_of(backend: Any, run: Any) -> CodePackage | None:
    """The code package of ``run`` (a RunRecord), or None when it stored none."""
    if run is None or not run.code_key:
        return None
    return CodePackage(backend.store_for(run), run.code_key, run.pathspec)
