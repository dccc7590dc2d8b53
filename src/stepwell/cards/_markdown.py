"""A small, safe Markdown subset rendered on the server (no JavaScript needed).

Supported: ``#`` headings, paragraphs, ``-``/``*``/``1.`` lists, fenced code
blocks, inline ``code``, ``**bold**``, ``*italic*`` and ``[links](url)``.
Text is HTML-escaped *before* any markup is applied, so raw HTML in the source
shows as text; links keep only http(s), mailto and relative targets.
"""

from __future__ import annotations

import re

from stepwell.cards._html import esc

_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
]
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1), match.group(2)
    scheme_part = re.split(r"[/?#]", url, maxsplit=1)[0]
    if ":" in scheme_part and not url.lower().startswith(("http://", "https://", "mailto:")):
        return text  # javascript:, data: and friends lose their link
    return f'<a href="{url}" rel="noopener noreferrer">{text}</a>'


def inline(text: str) -> str:
    """Escape ``text`` and apply the inline markup."""
    pieces = _CODE.split(text)
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:  # inside backticks: literal
            out.append(f"<code>{esc(piece)}</code>")
            continue
        rendered = esc(piece)
        rendered = _LINK.sub(_link, rendered)
        for pattern, replacement in _INLINE:
            rendered = pattern.sub(replacement, rendered)
        out.append(rendered)
    return "".join(out)


def render_markdown(source: str) -> str:
    """HTML for the Markdown ``source`` (see the module docstring for the subset)."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    lines = source.splitlines()
    index = 0

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            body = "".join(f"<li>{inline(item)}</li>" for item in items)
            out.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()

    while index < len(lines):
        line = lines[index]
        index += 1
        if line.strip().startswith("```"):
            flush()
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            index += 1  # the closing fence
            out.append(f'<pre class="sw-code"><code>{esc(chr(10).join(code))}</code></pre>')
        elif not line.strip():
            flush()
        elif heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif list_item := (_BULLET.match(line) or _NUMBERED.match(line)):
            tag = "ul" if _BULLET.match(line) else "ol"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append(list_item.group(1))
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return "".join(out)
