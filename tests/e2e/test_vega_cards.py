"""A VegaChart card draws its chart in a real browser, offline; Vega is stored once."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from stepwell.cards import get_cards
from stepwell.testing import run_flow

FLOW = Path(__file__).parents[1] / "flows" / "cards" / "vega_flow.py"
CHROMIUM = Path("/usr/bin/chromium")


def _card(stepwell_home: Path):
    run = run_flow(FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    [start] = run.tasks("start")
    [card] = get_cards(f"VegaFlow/{run.run_id}/start/{start.task_id}")
    return run, start, card


def test_vega_is_stored_once_as_a_shared_asset(stepwell_home: Path) -> None:
    first_run, first, _ = _card(stepwell_home)
    second_run, second, _ = _card(stepwell_home)
    records = [
        json.loads(r.metadata.get_task_metadata("VegaFlow", r.run_id, "start", t.task_id)[
            "card:blank:0"])
        for r, t in ((first_run, first), (second_run, second))
    ]  # fmt: skip
    assert records[0]["assets"] == records[1]["assets"]  # one blob for both cards
    assert records[0]["key"] != records[0]["assets"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs playwright")
def test_a_vega_chart_draws_offline_in_chromium(stepwell_home: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _, _, card = _card(stepwell_home)
    page_file = tmp_path / "card.html"
    page_file.write_text(card.get())
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_selector("svg.marks", timeout=15_000)
            bars = page.locator("svg.marks .mark-rect path").count()
            page.screenshot(path=str(tmp_path / "vega-card.png"))
        finally:
            browser.close()
    assert bars == 2  # one bar per data value
    assert all(url.startswith("file:") for url in requests)  # nothing from the network


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs playwright")
def test_the_ui_task_page_shows_the_tasks_cards(
    stepwell_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    from stepwell.ui import serve

    run, start, _ = _card(stepwell_home)
    monkeypatch.setenv("STEPWELL_HOME", str(stepwell_home))
    server = serve("127.0.0.1", 0, None, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                      "--disable-quic", "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"],
            )  # fmt: skip
            try:
                page = browser.new_page()
                path = f"VegaFlow/{run.run_id}/start/{start.task_id}"
                page.goto(f"{server.url.rstrip('/')}/task.html?path={path}")
                frame = page.frame_locator("iframe.cardframe").first
                frame.locator("svg.marks").wait_for(timeout=15_000)
                bars = frame.locator("svg.marks .mark-rect path").count()
                shots = Path(__file__).parents[1] / "artifacts"
                shots.mkdir(exist_ok=True)
                page.screenshot(path=str(shots / "ui-vega-card.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert bars == 2
