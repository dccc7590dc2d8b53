"""Card components render escaped HTML fragments with their content; update() changes them."""

from __future__ import annotations

import base64
import sys

import numpy as np
import pandas as pd
import pytest

from stepwell.cards import (
    Artifact,
    Error,
    Image,
    JSONViewer,
    Markdown,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
)

EVIL = "<script>alert('x')</script>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    "component",
    [
        Markdown(EVIL),
        Table([[EVIL, 1]], headers=[EVIL]),
        ValueBox(EVIL, EVIL),
        Artifact(EVIL, name=EVIL),
        JSONViewer({EVIL: EVIL}),
        PythonCode(EVIL),
        Error(EVIL, title=EVIL),
        ProgressBar(label=EVIL, unit=EVIL),
        Image(PNG, label=EVIL),
        VegaChart({"title": EVIL, "data": {"values": [{"a": "</script><script>x()"}]}}),
    ],
    ids=lambda c: type(c).__name__,
)
def test_user_text_is_escaped(component: object) -> None:
    html = component.render()  # type: ignore[attr-defined]
    assert "<script>alert" not in html
    assert "<script>x()" not in html


def test_markdown_renders_markup_and_neutralizes_links() -> None:
    html = Markdown(
        "# Title\n\n**bold** and *it* `x<y`\n\n- one\n- two\n\n"
        "[ok](https://a.b) [bad](javascript:alert(1))"
    ).render()
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>x&lt;y</code>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert '<a href="https://a.b"' in html
    assert "javascript:" not in html


def test_markdown_update_changes_the_text() -> None:
    md = Markdown("before")
    md.update("after")
    assert "after" in md.render() and "before" not in md.render()


def test_table_cells_and_nested_components() -> None:
    html = Table([[1, Markdown("**x**")]], headers=["n", "md"]).render()
    assert "<th>n</th>" in html and "<td>1</td>" in html and "<strong>x</strong>" in html


def test_table_from_dataframe_truncates() -> None:
    frame = pd.DataFrame({"a": range(150), "b": ["s"] * 150})
    table = Table.from_dataframe(frame)
    assert len(table.data) == 100 and table.headers == ["a", "b"]
    assert "First 100 of 150 rows" in table.render()
    assert len(Table.from_dataframe(frame, truncate=False).data) == 150


def test_table_update() -> None:
    table = Table([[1]])
    table.update([[2], [3]])
    assert "<td>3</td>" in table.render() and "<td>1</td>" not in table.render()


def test_progress_bar_update() -> None:
    bar = ProgressBar(max=10, label="epochs", unit="ep")
    bar.update(7)
    html = bar.render()
    assert 'value="7.0"' in html and 'max="10.0"' in html and "7 / 10 ep" in html


def test_value_box_update() -> None:
    box = ValueBox("Accuracy", 0.5)
    box.update(0.93)
    assert "0.93" in box.render() and "Accuracy" in box.render()


def test_image_inlines_bytes_as_data_uri() -> None:
    html = Image(PNG, label="loss").render()
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in html
    assert "<figcaption>loss</figcaption>" in html


def test_image_rejects_network_sources_and_unknown_bytes() -> None:
    with pytest.raises(ValueError, match="network"):
        Image("https://example.com/x.png")
    with pytest.raises(ValueError, match="not PNG"):
        Image(b"hello")


@pytest.mark.parametrize(
    ("module", "convert", "install"),
    [
        ("matplotlib", lambda: Image.from_matplotlib(object()), "pip install matplotlib"),
        ("PIL", lambda: Image.from_pil_image(object()), "pip install pillow"),
        ("altair", lambda: VegaChart.from_altair_chart(object()), "pip install altair"),
    ],
)
def test_optional_converters_say_what_to_install(
    module: str, convert, install: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the library were not installed
    with pytest.raises(ImportError, match=install):
        convert()


def test_image_from_a_matplotlib_figure() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([0, 1, 2], [0, 1, 4])
    image = Image.from_matplotlib(figure, label="growth")
    plt.close(figure)
    html = image.render()
    assert "data:image/png;base64," in html and "growth" in html


def test_image_from_a_pil_image() -> None:
    pil = pytest.importorskip("PIL.Image")
    picture = pil.new("RGB", (4, 3), color=(255, 0, 0))
    html = Image.from_pil_image(picture).render()
    assert "data:image/png;base64," in html


def test_vega_chart_embeds_spec_as_json() -> None:
    html = VegaChart({"mark": "bar", "title": "Counts"}).render()
    assert 'type="application/json"' in html and '"mark": "bar"' in html and "Counts" in html
    with pytest.raises(TypeError):
        VegaChart("not a dict")  # type: ignore[arg-type]


def test_artifact_previews_arrays_and_frames() -> None:
    array_html = Artifact(np.zeros((3, 4), dtype="float32"), name="weights").render()
    assert "shape (3, 4), dtype float32" in array_html and "weights" in array_html
    frame_html = Artifact(pd.DataFrame({"col": range(20)})).render()
    assert "<th>col</th>" in frame_html and frame_html.count("<tr>") == 6  # header + 5 rows


def test_python_code_shows_function_source() -> None:
    def sample_function() -> int:
        return 42

    html = PythonCode(sample_function).render()
    assert "def sample_function" in html and "return 42" in html


def test_error_shows_traceback() -> None:
    try:
        raise ValueError("bad <value>")
    except ValueError as exc:
        html = Error(exc).render()
    assert "ValueError" in html and "bad &lt;value&gt;" in html and "Traceback" in html


def test_json_viewer_pretty_prints() -> None:
    assert "&quot;lr&quot;: 0.1" in JSONViewer({"lr": 0.1}).render()


def test_vega_chart_from_an_altair_chart() -> None:
    alt = pytest.importorskip("altair")
    import pandas as pd

    chart = alt.Chart(pd.DataFrame({"k": ["a", "b"], "n": [3, 5]})).mark_bar().encode(x="k", y="n")
    spec = VegaChart.from_altair_chart(chart).spec
    assert spec["mark"] in ("bar", {"type": "bar"})
    assert '"n": 5' in VegaChart.from_altair_chart(chart).render().replace("\\u0022", '"')
