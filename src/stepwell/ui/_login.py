"""The sign-in page, its form, and the cookie that keeps a browser signed in.

The cookie holds the API token itself (so revoking the token signs every
browser out); it is ``HttpOnly`` (no script reads it), ``Secure`` (sent only
over HTTPS, or to ``localhost``/``127.0.0.1``, which browsers treat as
secure), ``SameSite=Strict`` (never sent by another site's page) and lasts
until the browser closes.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from stepwell.ui._access import COOKIE

TEMPLATE = Path(__file__).parent / "templates" / "login.html"
MAX_FORM = 4096  # bytes of a sign-in form at most
_ATTRIBUTES = "HttpOnly; Secure; SameSite=Strict; Path=/"


def login_page(*, message: str = "", next_path: str = "/") -> bytes:
    """The sign-in page, showing ``message`` (escaped) above the form."""
    page = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        message=html.escape(message),
        hidden="" if message else " hidden",
        next=html.escape(safe_next(next_path), quote=True),
    )
    return page.encode()


def session_cookie(secret: str) -> str:
    """The Set-Cookie value that signs a browser in with ``secret``."""
    return f"{COOKIE}={secret}; {_ATTRIBUTES}"


def expired_cookie() -> str:
    """The Set-Cookie value that signs a browser out."""
    return f"{COOKIE}=; Max-Age=0; {_ATTRIBUTES}"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: ``value`` if it is a path on this server, else ``/``.

    Refuses other sites (``//evil.example``, ``https://...``), backslashes and
    control characters, so the sign-in page cannot be used to redirect away.
    """
    if (
        not value
        or len(value) > 2000
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
        or value.split("?", 1)[0] in ("/login", "/logout")
    ):
        return "/"
    return value


def parse_form(body: bytes) -> dict[str, str]:
    """The fields of a ``application/x-www-form-urlencoded`` body (the first of each name)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"The sign-in form could not be read: {exc}.") from None
    return {name: values[0] for name, values in fields.items()}
