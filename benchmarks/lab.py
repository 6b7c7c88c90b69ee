"""How fast the lab answers in a real browser: home page, and every room until it is interactive.

    python -m benchmarks.lab [--quick] [--json PATH]

Serves the lab as the README does and drives headless Chromium. Rows:
- home page first paint, beside a bare Panel app with the same template (BootstrapTemplate) and
  the same extensions (the rooms' vtk and tabulator, notifications) served the same way, medians
  of the same number of repeats in the same run (target: within 1.3x of it);
- each room interactive after the click on its name in the lab's sidebar, as issue 19 defines it
  (``RoomSpec.ready``: the room's start button enabled and its first figure drawn, judged by the
  pixels it inks): on the first open after the server started (a fresh server per room, the room
  clicked within 5 s of the server's first answer, so the first session pays what the server has
  not warmed yet), and on a later open in a new session (median of repeats); target 2 s;
- the same rooms opened from a link (a new page load of ``/lab?room=...``: the page's bundles,
  template and room together), for comparison with the home page's own load; no target;
- a new page answered over HTTP while eight sessions work (target 1 s).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.browser import free_port, ink_fraction, launch, serve_lab, stop, wait_until_up
from benchmarks.report import Row, parse_args, report
from lab.rooms import RoomSpec, registered_rooms
from views.shell import extensions

HOME_MARKER = "Pick a room to start"
TIMEOUT_MS = 60_000
ROOM_TARGET_S = 2.0
HOME_RATIO_TARGET = 1.3
MIN_INK = 0.003   # a drawn figure or a written empty state inks at least this share of its box
BARE_APP = f'''import panel as pn
pn.extension({", ".join(repr(e) for e in extensions())}, notifications=True)
pn.template.BootstrapTemplate(title="Neural Lab", main=[pn.pane.Markdown("# Hello\\n{HOME_MARKER}")],
                              sidebar=[pn.widgets.Button(label="Home")], header_background="#2f4f73",
                              sidebar_width=220).servable()
'''


def first_paint(browser, url: str, ready) -> float:
    """Seconds from navigation until ``ready(page)`` returns (it waits for what it needs)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    ready(page)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def home_ready(page) -> None:
    page.get_by_text(HOME_MARKER).first.wait_for(timeout=TIMEOUT_MS)


def room_ready(room: RoomSpec):
    """Wait until ``room`` is interactive: its start button enabled, its ready elements drawn."""
    def ready(page) -> None:
        if room.start_button:
            button = page.get_by_role("button", name=room.start_button, exact=True).first
            button.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_function("b => !b.disabled", arg=button.element_handle(), timeout=TIMEOUT_MS)
        for selector in room.ready or (f".room-{room.slug}",):
            element = page.locator(selector).first
            element.wait_for(timeout=TIMEOUT_MS)
            deadline = time.perf_counter() + TIMEOUT_MS / 1000
            while ink_fraction(element.screenshot(timeout=TIMEOUT_MS)) < MIN_INK:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{selector} of room {room.slug} was never drawn")
                page.wait_for_timeout(50)
    return ready


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
        first_paint(browser, url, home_ready)   # warm, as for the lab
        return statistics.median(first_paint(browser, url, home_ready) for _ in range(repeats))
    finally:
        stop(process)


def click_open(browser, base: str, room: RoomSpec) -> float:
    """Seconds from a click on the room's name in the sidebar (the home page loaded) until the
    room is interactive."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/lab", wait_until="commit", timeout=TIMEOUT_MS)
    home_ready(page)
    name = page.get_by_role("button", name=room.title, exact=True).first
    name.wait_for(timeout=TIMEOUT_MS)
    start = time.perf_counter()
    name.click(timeout=TIMEOUT_MS)
    room_ready(room)(page)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def first_open(browser, room: RoomSpec) -> tuple[float, float]:
    """The room's first open on a freshly started server, clicked within 5 s of its first answer:
    (seconds from the click, seconds from the server's first answer to the click)."""
    port = free_port()
    process = serve_lab(port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/lab", process)
        answered = time.perf_counter()
        seconds = click_open(browser, f"http://127.0.0.1:{port}", room)
        clicked_after = time.perf_counter() - answered - seconds
        return seconds, clicked_after
    finally:
        stop(process)


def busy_sessions(browser, base: str, rooms, count: int):
    """Open ``count`` sessions, each in a room with its long work started; return the pages."""
    pages = []
    for index in range(count):
        room = rooms[index % len(rooms)]
        page = browser.new_context().new_page()
        page.goto(f"{base}/lab?room={room.slug}", timeout=TIMEOUT_MS)
        room_ready(room)(page)
        if room.start_button:
            page.get_by_role("button", name=room.start_button, exact=True).first.click(timeout=TIMEOUT_MS)
        pages.append(page)
    return pages


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = 3 if args.quick else 7
    from playwright.sync_api import sync_playwright

    rows = []
    notes = [f"repeats {repeats} (median); Chromium headless, server and browser on this machine; "
             f"a room is interactive when its start button is enabled and its ready elements ink >= {MIN_INK:.1%}"]
    rooms = registered_rooms()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for room in rooms:   # first opens: each on a fresh server
            seconds, clicked_after = first_open(browser, room)
            rows.append(Row(f"room '{room.slug}' interactive after the click, first open after server start",
                            seconds, "s", target=f"<= {ROOM_TARGET_S:g} s", met=seconds <= ROOM_TARGET_S))
            notes.append(f"{room.slug}: first click {clicked_after:.1f} s after the server's first answer")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = serve_lab(port)
        try:
            startup = wait_until_up(f"{base}/lab", process)
            rows.append(Row("server start until /lab answers", startup, "s"))
            first_paint(browser, f"{base}/lab", home_ready)  # warm the server's caches once
            home = statistics.median(first_paint(browser, f"{base}/lab", home_ready) for _ in range(repeats))
            bare = bare_panel_paint(browser, repeats)
            rows.append(Row("home page first paint", home, "s", "bare Panel app, same template and extensions",
                            bare, f"<= {HOME_RATIO_TARGET:g}x peer", home <= HOME_RATIO_TARGET * bare))
            for room in rooms:
                seconds = statistics.median(click_open(browser, base, room) for _ in range(repeats))
                rows.append(Row(f"room '{room.slug}' interactive after the click, later open", seconds, "s",
                                target=f"<= {ROOM_TARGET_S:g} s", met=seconds <= ROOM_TARGET_S))
            for room in rooms:
                seconds = statistics.median(first_paint(browser, f"{base}/lab?room={room.slug}", room_ready(room))
                                            for _ in range(repeats))
                rows.append(Row(f"room '{room.slug}' interactive from a link (new page load)", seconds, "s",
                                "home page first paint", home))
            pages = busy_sessions(browser, base, rooms, 8)
            time.sleep(2)
            busy_http = statistics.median(http_answer(f"{base}/lab") for _ in range(repeats))
            rows.append(Row("new page answered (HTTP) with 8 busy sessions", busy_http, "s",
                            target="<= 1 s", met=busy_http <= 1))
            for page in pages:
                page.context.close()
        finally:
            stop(process)
            browser.close()
    report(rows, args, "Neural Lab: page speed in headless Chromium", notes)


if __name__ == "__main__":
    main()
