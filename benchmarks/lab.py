"""How fast the lab's shell answers in a real browser.

Serves the lab as the README does, opens pages in headless Chromium and prints: the home page's
first paint after the server is up (beside a bare one-line Panel app served the same way), the
time until each room is interactive, and how fast a new page is answered while eight sessions
each have a room working.

    python -m benchmarks.lab [--quick] [--json PATH]
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.report import Row, parse_args, report
from lab.rooms import EXTRA_ROOMS_VARIABLE, registered_rooms
from tests.browser.chromium import launch
from tests.browser.server import free_port, serve_lab, stop, wait_until_up

HOME_MARKER = "Pick a room to start"
TIMEOUT_MS = 60_000
BARE_APP = 'import panel as pn\npn.pane.Markdown("# Hello\\n' + HOME_MARKER + '").servable()\n'


def first_paint(browser, url: str, marker) -> float:
    """Seconds from navigation until ``marker`` (text or a locator factory) is visible."""
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    locator = page.get_by_text(marker) if isinstance(marker, str) else marker(page)
    locator.first.wait_for(timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def http_answer(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return time.perf_counter() - start


def bare_panel_paint(browser, repeats: int) -> float:
    folder = Path(tempfile.mkdtemp())
    (folder / "bare.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(folder / "bare.py"),
                                "--port", str(port), "--address", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/bare"
        wait_until_up(url, process)
        return statistics.median(first_paint(browser, url, HOME_MARKER) for _ in range(repeats))
    finally:
        stop(process)


def busy_sessions(browser, base: str, rooms, count: int):
    """Open ``count`` sessions, each in a room with its long work started; return the pages."""
    pages = []
    for index in range(count):
        room = rooms[index % len(rooms)]
        page = browser.new_context().new_page()
        page.goto(f"{base}/lab?room={room.slug}", timeout=TIMEOUT_MS)
        page.locator(f".room-{room.slug}").first.wait_for(timeout=TIMEOUT_MS)
        if room.start_button:
            page.get_by_role("button", name=room.start_button, exact=True).first.click(timeout=TIMEOUT_MS)
        pages.append(page)
    return pages


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = 3 if args.quick else 7
    from playwright.sync_api import sync_playwright

    rows, notes = [], [f"repeats {repeats} (median), Chromium headless, server and browser on this machine"]
    if not registered_rooms():  # the served lab inherits this environment
        os.environ[EXTRA_ROOMS_VARIABLE] = "tests.browser.demo_room:DEMO_ROOM"
        notes.append("no real room is registered yet: the shell's test room stands in")
    rooms = registered_rooms()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_lab(port)
    try:
        startup = wait_until_up(f"{base}/lab", process)
        rows.append(Row("server start until /lab answers", startup, "s"))
        with sync_playwright() as playwright:
            browser = launch(playwright)
            first_paint(browser, f"{base}/lab", HOME_MARKER)  # warm the server's caches once
            home = statistics.median(first_paint(browser, f"{base}/lab", HOME_MARKER) for _ in range(repeats))
            bare = bare_panel_paint(browser, repeats)
            rows.append(Row("home page first paint", home, "s", "bare one-line Panel app", bare,
                            "< 3 s", home < 3))
            for room in rooms:
                marker = lambda page, slug=room.slug: page.locator(f".room-{slug}")
                seconds = statistics.median(first_paint(browser, f"{base}/lab?room={room.slug}", marker)
                                            for _ in range(repeats))
                rows.append(Row(f"room '{room.slug}' interactive", seconds, "s", target="< 5 s", met=seconds < 5))
            pages = busy_sessions(browser, base, rooms, 8)
            time.sleep(2)
            busy_http = statistics.median(http_answer(f"{base}/lab") for _ in range(repeats))
            busy_paint = statistics.median(first_paint(browser, f"{base}/lab", HOME_MARKER) for _ in range(repeats))
            rows.append(Row("new page answered (HTTP) with 8 busy sessions", busy_http, "s",
                            target="< 1 s", met=busy_http < 1))
            rows.append(Row("home first paint with 8 busy sessions", busy_paint, "s", "idle server", home))
            for page in pages:
                page.context.close()
            browser.close()
    finally:
        stop(process)
    report(rows, args, "Neural Lab shell: page speed in headless Chromium", notes)


if __name__ == "__main__":
    main()
