import os
from pathlib import Path

import pytest

from lab.rooms import EXTRA_ROOMS_VARIABLE
from tests.browser.chromium import CHROMIUM, launch
from tests.browser.server import free_port, serve_lab, stop, wait_until_up

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "assets" / "screenshots"  # the README shows these

pytestmark = pytest.mark.browser


def served_lab(tmp_path_factory, extra_env=None):
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "panel.log"
    process = serve_lab(port, extra_env, log_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/lab", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        print(log_path.read_text()[-5000:])


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


class ConsoleErrors(list):
    """Browser console errors of one page, ignoring the favicon the lab does not ship."""

    def record(self, message):
        if message.type == "error" and "favicon" not in message.text:
            self.append(message.text)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.console_errors = ConsoleErrors()
    page.on("console", page.console_errors.record)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
