"""Artifact previews in the UI."""

from __future__ import annotations


def test_image_artifacts_preview_as_images() -> None:
    import base64
    from types import SimpleNamespace

    from stepwell.ui._preview import preview

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
    )
    record = SimpleNamespace(type_name="builtins.bytes", size=len(png), meta="{}")
    shown = preview(record, lambda: png)
    assert shown["kind"] == "image" and shown["src"].startswith("data:image/png;base64,")
    not_image = preview(
        SimpleNamespace(type_name="builtins.bytes", size=3, meta="{}"), lambda: b"abc"
    )
    assert not_image["kind"] == "value"
