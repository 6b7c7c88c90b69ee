import os
from pathlib import Path

import pytest

from benchmarks import browser as lab_browser
from benchmarks.browser import CHROMIUM, PageGuard, launch
from lab.rooms import EXTRA_ROOMS_VARIABLE

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "assets" / "screenshots"  # the README shows these

pytestmark = pytest.mark.browser


LOGS: dict[str, Path] = {}   # base URL -> the server's log


def served_lab(tmp_path_factory, extra_env=None):
    log_path = tmp_path_factory.mktemp("server") / "panel.log"
    try:
        with lab_browser.served_lab(extra_env, log_path) as base:
            LOGS[base] = log_path
            yield base
    finally:
        print(log_path.read_text()[-5000:])  # the server's log, shown with a failing test


@pytest.fixture(autouse=True)
def servers_still_up():
    """Fail the test during which a served lab died, with its exit code and the end of its log
    (otherwise every later test only says 'connection refused' and the cause is lost)."""
    yield
    for base, process in list(lab_browser.RUNNING.items()):
        if process.poll() is not None:
            log = LOGS.get(base)
            tail = log.read_text()[-6000:] if log and log.exists() else "(no log)"
            lab_browser.RUNNING.pop(base)
            pytest.fail(f"the lab served at {base} died (exit code {process.returncode}); "
                        f"the end of its log:\n{tail}")


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory):
    """The lab exactly as a user serves it (the README's screenshots come from here)."""
    yield from served_lab(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_lab_url(tmp_path_factory):
    """The lab with the shell's test room added (errors, background work)."""
    yield from served_lab(tmp_path_factory, {EXTRA_ROOMS_VARIABLE: "tests.browser.demo_room:DEMO_ROOM"})


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page whose guard fails the test on any console error, page error or request to
    another host (a test names the errors it provokes on purpose with ``page.guard.expect``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.guard = PageGuard(page)
    yield page
    context.close()
    page.guard.check()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
