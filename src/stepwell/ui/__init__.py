"""The built-in web UI: a JSON API over the Client API, and static pages that use it.

``serve()`` starts a standard-library HTTP server (no dependency) that reads the
embedded store. Rules its modules keep:

- Security first (DESIGN.md, "Security contract"): bind 127.0.0.1 by default; any
  other bind needs a token, and every request without it gets 401 (``_access.py``
  decides who a request is). No request reads a file outside the store: URL
  segments are validated against strict patterns *before* they reach the client,
  and static files are served from a fixed list built at start-up, never from a
  path taken from the URL.
- ``stepwell server`` (``_team.py``) serves a team's store with accounts: the
  metadata store's API tokens, a sign-in page (``_login.py``), failures
  rate-limited per client address (``_ratelimit.py``). A token never travels in
  a URL and never reaches the log.
- Inputs are validated in ``_params.py``; a bad pathspec or parameter is a 4xx
  JSON error ``{"error": {"status", "message"}}``, never a 500.
- The pages (``static/``) are plain HTML/CSS/JS with no build step; they use
  only the JSON API, the one described by ``/api/openapi.json``.
- Reads are namespace-free (the UI shows every run of the store) and each
  request aggregates in one pass over the records it reads (a 10,000-task run
  is one ``list_tasks`` query).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stepwell.ui._server import UiServer

__all__ = ["make_server", "make_team_server", "serve", "serve_team"]


def make_server(*args: Any, **kwargs: Any) -> UiServer:
    """Build the server without serving (see :func:`stepwell.ui._server.make_server`)."""
    from stepwell.ui._server import make_server as _make

    return _make(*args, **kwargs)


def serve(*args: Any, **kwargs: Any) -> UiServer:
    """Start the UI and serve until interrupted (see :func:`stepwell.ui._server.serve`)."""
    from stepwell.ui._server import serve as _serve

    return _serve(*args, **kwargs)


def make_team_server(*args: Any, **kwargs: Any) -> UiServer:
    """Build ``stepwell server``, not serving (see :func:`stepwell.ui._team.make_team_server`)."""
    from stepwell.ui._team import make_team_server as _make

    return _make(*args, **kwargs)


def serve_team(*args: Any, **kwargs: Any) -> UiServer:
    """Start ``stepwell server``, with accounts (see :func:`stepwell.ui._team.serve_team`)."""
    from stepwell.ui._team import serve_team as _serve

    return _serve(*args, **kwargs)
