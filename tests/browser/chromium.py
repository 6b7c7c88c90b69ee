"""Debian's Chromium driven by Playwright (Playwright cannot download browsers here)."""
import os
import tempfile
from contextlib import contextmanager

CHROMIUM = os.environ.get("NEURAL_LAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


@contextmanager
def served_room(slug: str, viewport: dict, timeout_ms: int):
    """Serve the lab as the README does, open ``?room=<slug>`` in Chromium, yield the page;
    the browser and the server are closed afterwards (benchmarks use this)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.server import free_port, serve_lab, stop, wait_until_up
    port = free_port()
    process = serve_lab(port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/lab", process)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                page = browser.new_page(viewport=viewport)
                page.goto(f"http://127.0.0.1:{port}/lab?room={slug}", timeout=timeout_ms)
                yield page
            finally:
                browser.close()
    finally:
        stop(process)
