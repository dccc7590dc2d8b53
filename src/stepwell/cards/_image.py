"""The ``Image`` component: PNG/JPEG/GIF/WebP/SVG bytes inlined as a data URI."""

from __future__ import annotations

import base64
import io
from typing import Any

from stepwell.cards._components import CardComponent
from stepwell.cards._html import esc

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_mime(data: bytes) -> str:
    """The image type of ``data`` from its first bytes."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.lstrip()[:5] in (b"<svg ", b"<?xml"):
        return "image/svg+xml"  # shown through <img>, where SVG scripts never run
    raise ValueError("Image: the bytes are not PNG, JPEG, GIF, WebP or SVG.")


def _needs(package: str, what: str) -> ImportError:
    return ImportError(
        f"{what} needs the '{package}' package. Install it with: pip install {package}"
    )


class Image(CardComponent):
    """An image: ``Image(png_bytes, label="loss")``, or a ``data:image/...`` URI.

    ``Image.from_matplotlib(fig)`` and ``Image.from_pil_image(img)`` convert
    figures when matplotlib / Pillow are installed.
    """

    def __init__(self, src: bytes | str, label: str | None = None) -> None:
        self.label = label
        self.src = self._to_src(src)

    @staticmethod
    def _to_src(src: bytes | str) -> str:
        if isinstance(src, bytes | bytearray | memoryview):
            data = bytes(src)
            return f"data:{sniff_mime(data)};base64,{base64.b64encode(data).decode()}"
        if isinstance(src, str) and src.startswith("data:image/"):
            return src
        raise ValueError(
            "Image takes image bytes or a 'data:image/...' URI (cards load nothing from "
            f"the network); got {type(src).__name__}."
        )

    @classmethod
    def from_matplotlib(cls, figure: Any, label: str | None = None) -> Image:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise _needs("matplotlib", "Image.from_matplotlib") from None
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        return cls(buffer.getvalue(), label=label)

    @classmethod
    def from_pil_image(cls, image: Any, label: str | None = None) -> Image:
        try:
            import PIL  # noqa: F401
        except ImportError:
            raise _needs("pillow", "Image.from_pil_image") from None
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return cls(buffer.getvalue(), label=label)

    def update(self, src: bytes | str, label: str | None = None) -> None:
        self.src = self._to_src(src)
        if label is not None:
            self.label = label

    def render(self) -> str:
        label = esc(self.label or "")
        caption = f"<figcaption>{label}</figcaption>" if self.label else ""
        return self._wrap(f'<figure><img src="{esc(self.src)}" alt="{label}">{caption}</figure>')
