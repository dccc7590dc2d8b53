"""The UI in a real browser (Debian's chromium driven by Playwright) on a store with real runs.

Screenshots go to the test's tmp dir and are copied to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_ui_api
from test_ui_api import UiStore, start_ui

ui_store = test_ui_api.ui_store  # the shared store fixture

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "artifacts"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install -y --no-install-recommends chromium chromium-driver)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="needs the playwright package (pip install playwright)"),
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """JavaScript errors and failed loads of the page: none expected unless a test clears them."""
    return []


@pytest.fixture
def page(
    browser: Any,
    ui_store: UiStore,
    monkeypatch: pytest.MonkeyPatch,
    console_errors: list[str],
) -> Iterator[Any]:
    server = start_ui(ui_store.home, monkeypatch)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    page = context.new_page()
    errors = console_errors
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    server.shutdown()
    server.server_close()
    assert errors == [], errors


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    return path


def test_runs_page_lists_runs_and_filters(page: Any, ui_store: UiStore, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto("/?flow=ForeachFlow")
    rows = page.locator("#runs tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert page.locator("#flows a").count() == 4
    assert "succeeded" in rows.first.inner_text()
    shot(page, tmp_path, "ui-runs")
    page.fill("input[name=tag]", "nightly")
    page.click("button[type=submit]")
    expect(rows).to_have_count(1)  # (no wait_for_function: the page's CSP forbids eval)
    assert f"ForeachFlow/{ui_store.foreach[1]}" in rows.first.inner_text()


def test_run_page_shows_the_dag_and_opens_a_task_with_logs(
    page: Any,
    ui_store: UiStore,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page.goto("/?flow=LogsFlow")
    page.click(f"text=LogsFlow/{ui_store.logs}")
    page.locator("#dag svg [data-step]").first.wait_for()
    steps = page.locator("#dag svg [data-step]")
    assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == [
        "start", "talk", "end"]  # fmt: skip
    assert page.locator("#dag svg path[marker-end]").count() == 2
    assert page.locator("#timeline svg rect").count() == 3
    shot(page, tmp_path, "ui-run")
    page.click("#step-talk + table a")
    expect(page.locator("#log")).to_contain_text("out line three")
    assert "out line one" in page.inner_text("#log")
    page.click("#tab-stderr")
    expect(page.locator("#log")).to_contain_text("err line one")
    shot(page, tmp_path, "ui-task")


def test_foreach_run_dag_counts_and_task_artifacts(
    page: Any,
    ui_store: UiStore,
    tmp_path: Path,
) -> None:
    page.goto(f"/run.html?flow=ForeachFlow&run={ui_store.foreach[0]}")
    square = page.locator("#dag svg [data-step=square]")
    square.wait_for()
    assert "4 tasks" in square.text_content() and "foreach \u00d74" in square.text_content()
    page.goto(f"/run.html?flow=TypedArtifactsFlow&run={ui_store.typed}")
    page.click("#step-start + table a")
    page.locator("#artifacts table").first.wait_for()
    text = page.inner_text("#artifacts")
    assert "array shape (1000) dtype float64" in text
    assert "DataFrame 3 rows \u00d7 2 columns" in text
    shot(page, tmp_path, "ui-artifacts")


def test_failed_task_shows_its_exception(page: Any, ui_store: UiStore, tmp_path: Path) -> None:
    page.goto(f"/run.html?flow=RaisesFlow&run={ui_store.raises}")
    page.locator("#dag svg [data-step=boom]").wait_for()
    page.click("#step-boom + table a")
    page.locator("#exception pre").wait_for()
    assert "ValueError: bad value 42" in page.inner_text("#exception")
    shot(page, tmp_path, "ui-failed-task")


def test_compare_two_runs_from_the_runs_page(page: Any, ui_store: UiStore, tmp_path: Path) -> None:
    page.goto("/?flow=ForeachFlow")
    boxes = page.locator("#runs tbody input[type=checkbox]")
    boxes.first.wait_for()
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#compare")
    page.locator("#artifacts table").first.wait_for()
    assert "sum_of_squares" in page.inner_text("#artifacts")
    assert "square" in page.inner_text("#steps")
    shot(page, tmp_path, "ui-compare")


def test_an_unknown_run_shows_a_clear_error(page: Any, console_errors: list[str]) -> None:
    page.goto("/run.html?flow=ForeachFlow&run=424242")
    page.locator("#error .error").wait_for()
    assert "ForeachFlow/424242" in page.inner_text("#error")
    assert all("404" in e for e in console_errors)  # the API's answer, logged by the browser
    console_errors.clear()
