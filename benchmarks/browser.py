"""Serve the lab as the README does and drive Debian's Chromium through Playwright.

Shared by the browser tests (tests/browser) and the room benchmarks, so both see the lab the same
way. Playwright cannot download browsers here: it drives /usr/bin/chromium (NEURAL_LAB_CHROMIUM).

    with served_lab() as base:                      # http://127.0.0.1:<port>
        ...
    with served_room("fields", viewport, 60_000) as page:
        ...
    guard = PageGuard(page)                         # console errors, page errors, other hosts
    ...; guard.check()                              # raises AssertionError listing them
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("NEURAL_LAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
SERVE_ARGUMENTS = ["--plugins", "lab.not_found", "--index", "lab"]   # as the README runs the lab


# ---- the server ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_lab(port: int, extra_env: dict | None = None, log_path: Path | None = None,
              extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """``panel serve lab`` from this checkout on ``port`` (loopback only)."""
    # faulthandler: a crash in a C extension (VTK, torch) leaves its Python traceback in the log
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1", **(extra_env or {}))
    command = [sys.executable, "-m", "panel", "serve", "lab", "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
               *SERVE_ARGUMENTS, *extra_args]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90.0) -> float:
    """Seconds until the server answered ``url``; raises if it died or never answered."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"panel serve exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the lab did not answer {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


RUNNING: dict[str, subprocess.Popen] = {}   # base URL -> its server, so a test can tell it died


@contextmanager
def served_lab(extra_env: dict | None = None, log_path: Path | None = None):
    """Yield the base URL of a freshly served lab; the server is stopped afterwards."""
    port = free_port()
    process = serve_lab(port, extra_env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/lab", process)
        RUNNING[base] = process
        yield base
    finally:
        RUNNING.pop(base, None)
        stop(process)


# ---- the browser ---------------------------------------------------------------------------------
def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


@contextmanager
def served_room(slug: str, viewport: dict, timeout_ms: int):
    """Serve the lab, open ``?room=<slug>`` in Chromium, yield the page; all closed afterwards."""
    from playwright.sync_api import sync_playwright
    with served_lab() as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base}/lab?room={slug}", timeout=timeout_ms)
            yield page
        finally:
            browser.close()


class PageGuard:
    """Everything a page did wrong: console errors, uncaught page errors, requests to other hosts.

    The lab must work offline and never leak a student's page to another host, so any request
    that leaves this machine is a defect, whether or not it failed. ``expect(pattern)`` names an
    error that is the behaviour under test (a refused upload's 4xx, say); nothing else may appear.
    """

    def __init__(self, page):
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.other_hosts: list[str] = []
        self._expected: list[re.Pattern] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("request", self._request)

    def expect(self, pattern: str) -> None:
        self._expected.append(re.compile(pattern))

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _request(self, request) -> None:
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL_HOSTS:
            self.other_hosts.append(request.url)

    def problems(self) -> list[str]:
        errors = [e for e in self.console_errors + self.page_errors
                  if not any(p.search(e) for p in self._expected)]
        return errors + [f"request to another host: {url}" for url in self.other_hosts]

    def check(self) -> None:
        problems = self.problems()
        assert not problems, "the page reported problems:\n" + "\n".join(problems)


# ---- looking at what is drawn --------------------------------------------------------------------
def ink_fraction(png: bytes) -> float:
    """Share of pixels that differ from the picture's commonest colour (its background)."""
    import io

    import numpy as np
    from PIL import Image
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(np.int16)
    if len(pixels) == 0:
        return 0.0
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    return float((np.abs(pixels - background).sum(axis=1) > 30).mean())


def assert_drawn(locator, min_ink: float = 0.02, what: str = "plot") -> float:
    """Fail unless ``locator`` (one element) has a non-zero size and inks at least ``min_ink`` of
    its area: a collapsed, blank or never-rendered plot fails, a drawn one passes. Returns the ink."""
    box = locator.bounding_box()
    assert box is not None and box["width"] >= 10 and box["height"] >= 10, f"the {what} has no size: {box}"
    ink = ink_fraction(locator.screenshot())
    assert ink >= min_ink, f"the {what} looks blank: {ink:.1%} of its pixels are inked (< {min_ink:.0%})"
    return ink


def wait_drawn(locator, min_ink: float = 0.02, what: str = "plot", timeout_s: float = 60.0) -> float:
    """``assert_drawn``, retried while the plot is still being drawn or is being replaced by a
    newer one (its element leaves the page while it is looked at), up to ``timeout_s``."""
    from playwright.sync_api import Error as PlaywrightError
    deadline = time.perf_counter() + timeout_s
    while True:
        try:
            return assert_drawn(locator, min_ink=min_ink, what=what)
        except (AssertionError, PlaywrightError):
            if time.perf_counter() > deadline:
                raise
            locator.page.wait_for_timeout(1000)
