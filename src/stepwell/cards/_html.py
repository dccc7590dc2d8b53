"""HTML helpers: escaping, the shared stylesheet, and assembling a self-contained page.

A stored card is two blobs: the *body* (this card's HTML) and the *assets*
(the stylesheet every card shares, byte-identical each time so the
content-addressed store keeps it once). :func:`assemble_page` joins them into
one page that renders with no network access.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

#: Marks where the shared assets go in a page; never produced by escaped user text.
ASSETS_SLOT = "<!--stepwell-card-assets-->"

SHARED_CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#ffffff; --accent:#0969da;
  --soft:#f6f8fa; --bad:#cf222e; }
* { box-sizing: border-box; }
body { margin:0; padding:24px; font:14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial,
  sans-serif; color:var(--fg); background:var(--bg); }
.sw-card { max-width: 1100px; margin: 0 auto; }
.sw-card h1 { font-size: 20px; margin: 0 0 4px; }
.sw-card h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
.sw-muted { color: var(--muted); }
.sw-component { margin: 12px 0; }
table.sw-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.sw-table th, .sw-table td { border: 1px solid var(--line); padding: 4px 8px;
  text-align: left; vertical-align: top; }
.sw-table th { background: var(--soft); }
pre.sw-code, pre.sw-json { background: var(--soft); padding: 12px; overflow: auto;
  border-radius: 6px; font: 12px/1.45 ui-monospace, Menlo, Consolas, monospace; }
.sw-progress { display:flex; align-items:center; gap:8px; }
.sw-progress progress { flex: 1; height: 14px; }
.sw-valuebox { display:inline-block; min-width:160px; border:1px solid var(--line);
  border-radius:8px; padding:12px 16px; margin-right:8px; }
.sw-valuebox .sw-value { font-size: 24px; font-weight: 600; }
.sw-error { border:1px solid var(--bad); border-radius:6px; padding:12px; }
.sw-error h3 { color: var(--bad); margin: 0 0 8px; font-size: 15px; }
.sw-image img { max-width: 100%; }
.sw-graph svg { max-width: 100%; height: auto; }
.sw-graph .sw-node rect { fill: var(--soft); stroke: var(--line); }
.sw-graph .sw-node.sw-here rect { fill: #ddf4ff; stroke: var(--accent); stroke-width: 2; }
.sw-graph .sw-node text { font-size: 12px; fill: var(--fg); }
.sw-graph .sw-edge { stroke: var(--muted); fill: none; }
dl.sw-timing { display:grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.sw-timing dt { color: var(--muted); } dl.sw-timing dd { margin: 0; }
"""


def esc(value: Any) -> str:
    """``str(value)`` escaped for HTML text and quoted attribute values."""
    return html.escape(str(value), quote=True)


def json_for_script(data: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">`` (no ``</script>``)."""
    text = json.dumps(data, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_VEGA = Path(__file__).parent / "static" / "vega"
_VEGA_FILES = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
#: What a card body holds when it needs Vega (set by VegaChart.render).
VEGA_MARK = 'class="sw-vega-spec"'


def shared_assets(vega: bool = False) -> bytes:
    """The assets blob: identical bytes for every card (of its kind), so it is stored once.

    With ``vega`` the Vega, Vega-Lite and vega-embed builds (from the npm registry, see
    scripts/vendor_vega.sh) follow the styles, so charts draw with no network access.
    """
    parts = [f"<style>{SHARED_CSS}</style>"]
    if vega:
        for name in _VEGA_FILES:
            code = (_VEGA / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
            parts.append(f"<script>{code}</script>")
    return "".join(parts).encode()


def page_body(title: str, content: str) -> str:
    """A card body: a full HTML document with a slot where the assets go."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title>{ASSETS_SLOT}</head>"
        f'<body><div class="sw-card">{content}</div></body></html>\n'
    )


def assemble_page(body: str, assets: str) -> str:
    """The full self-contained page: ``body`` with the shared ``assets`` inlined."""
    return body.replace(ASSETS_SLOT, assets, 1)
