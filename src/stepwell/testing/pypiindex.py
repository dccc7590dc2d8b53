"""A package index on 127.0.0.1 serving a folder of wheels: @pypi environments, tested offline.

``PackageIndex.start(folders)`` lays the wheels out as a PEP 503 "simple"
index (one page per project, each file linked with its sha256) in a
temporary directory and serves it with ``python -m http.server`` bound to
127.0.0.1; ``.url`` is what ``UV_INDEX_URL`` takes. ``stop()`` (or leaving
the ``with`` block) ends the server.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def project_name(filename: str) -> str:
    """The normalized project name of a wheel or sdist file name (PEP 503)."""
    stem = filename.split("-")[0] if filename.endswith(".whl") else filename.rsplit("-", 1)[0]
    return re.sub(r"[-_.]+", "-", stem).lower()


def write_simple_index(folders: Iterable[Path], root: Path) -> dict[str, list[str]]:
    """Copy the wheels and sdists of ``folders`` under ``root`` as a PEP 503 index."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(Path(folder).iterdir()):
            if path.name.endswith((".whl", ".tar.gz", ".zip")):
                shutil.copy2(path, files / path.name)
                projects.setdefault(project_name(path.name), []).append(path.name)
    simple = root / "simple"
    for project, names in projects.items():
        links = []
        for name in sorted(set(names)):
            digest = hashlib.sha256((files / name).read_bytes()).hexdigest()
            href = f"../../files/{html.escape(name)}#sha256={digest}"
            links.append(f'<a href="{href}">{html.escape(name)}</a><br/>')
        (simple / project).mkdir(parents=True, exist_ok=True)
        (simple / project / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )
    index = "".join(f'<a href="{p}/">{p}</a><br/>\n' for p in sorted(projects))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{index}</body></html>\n")
    return projects


@dataclass
class PackageIndex:
    """A running index: ``url`` (``http://127.0.0.1:PORT/simple``) and its server process."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]

    @classmethod
    @contextmanager
    def start(cls, folders: Iterable[Path]) -> Iterator[PackageIndex]:
        with tempfile.TemporaryDirectory(prefix="stepwell-index-") as tmp:
            root = Path(tmp)
            write_simple_index(folders, root)
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                 "--directory", str(root), str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            index = cls(f"http://127.0.0.1:{port}/simple", root, process)
            try:
                index.wait_ready()
                yield index
            finally:
                index.stop()

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the package index at {self.url} did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
