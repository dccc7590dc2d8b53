"""`stepwell server` in a real browser (chromium via Playwright): sign in, see who, sign out.

Screenshots go to the test's tmp dir and are copied to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_ui_api
import test_ui_browser
from test_ui_api import UiStore
from test_ui_browser import shot

ui_store = test_ui_api.ui_store  # the shared store fixture
browser = test_ui_browser.browser  # chromium, once per module
pytestmark = test_ui_browser.pytestmark  # skipped without chromium or playwright


@pytest.fixture
def team_server(ui_store: UiStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """The team server on the store, with a token for 'ada'; yields (server, secret)."""
    from stepwell.metadata import SqliteMetadataStore
    from stepwell.ui import make_team_server

    _, secret = SqliteMetadataStore(ui_store.home / "stepwell.db").new_token("ada", note="browser")
    monkeypatch.setenv("STEPWELL_HOME", str(ui_store.home))
    server = make_team_server("127.0.0.1", 0)
    server.start_in_thread()
    yield server, secret
    server.shutdown()
    server.server_close()


def test_sign_in_shows_the_runs_and_the_user_then_sign_out(
    browser: Any, team_server: tuple[Any, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server, secret = team_server
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=server.url)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    try:
        page.goto("/?flow=ForeachFlow")
        expect(page).to_have_url(re.compile(r"/login\?next=%2F%3Fflow%3DForeachFlow$"))
        expect(page.locator("h1")).to_have_text("Sign in")
        shot(page, tmp_path, "ui-login")

        page.fill("#token", "swt_" + "w" * 43)
        page.click("button[type=submit]")
        expect(page.locator("#message")).to_contain_text("unknown or has been revoked")

        page.fill("#token", secret)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/\?flow=ForeachFlow$"))
        rows = page.locator("#runs tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#session .user")).to_have_text("ada")
        assert page.locator("#flows a").count() == 4
        cookie = next(c for c in context.cookies() if c["name"] == "stepwell_token")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        shot(page, tmp_path, "ui-signed-in")

        page.click("#session button")  # sign out
        expect(page).to_have_url(re.compile(r"/login$"))
        assert not [c for c in context.cookies() if c["name"] == "stepwell_token"]
        page.goto("/run.html")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        context.close()
    assert script_errors == []
