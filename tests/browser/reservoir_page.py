"""The reservoir room as a user meets it in Chromium: what the tests click and read.

Bokeh draws plot titles and labels on a canvas, so some values are read from the page's Bokeh
models (``window.Bokeh.documents``) rather than from the DOM.
"""
from __future__ import annotations

import re
import time

TIMEOUT_MS = 90_000
TABS = ("Live", "Eigenvalues", "Task", "Sweep")
LIVE_PLOTS = (".live-raster", ".live-currents", ".live-histogram", ".live-convergence")
TAB_PLOTS = {"Live": LIVE_PLOTS, "Eigenvalues": (".spectrum-plot",), "Task": (".task-plot",),
             "Sweep": (".sweep-plot", ".regime-plot")}

_MODELS = "Array.from(window.Bokeh.documents).flatMap(doc => Array.from(doc._all_models.values()))"
TITLES_JS = f"() => {_MODELS}.filter(m => m.type === 'Title').map(m => m.text)"
# the live plots' legends (the analysis tab's spectrum legend is shown from the start, rightly)
LEGENDS_VISIBLE_JS = f"() => {_MODELS}.filter(m => m.type === 'Legend' && m.name === 'live-legend').map(m => m.visible)"
WAITING_NOTES_JS = f"() => {_MODELS}.filter(m => m.type === 'Label' && m.name === 'live-note' && m.visible).map(m => m.text)"
Y_RANGE_JS = f"""(title) => {{
  const plot = {_MODELS}.find(m => m.title && m.title.text === title && m.y_range);
  return plot ? [plot.y_range.start, plot.y_range.end] : null }}"""


def open_room(page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/lab?room=reservoir{query}", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-reservoir").first.wait_for(timeout=TIMEOUT_MS)
    button(page, "Run").wait_for(timeout=TIMEOUT_MS)
    page.locator(".regime-badge").first.wait_for(timeout=TIMEOUT_MS)


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True).first


def tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()


def badge_steps(page) -> int:
    """The step count the page shows (the badge beside the regime)."""
    text = page.locator(".step-count").first.inner_text()
    return int(re.fullmatch(r"([\d,]+) steps", text.strip()).group(1).replace(",", ""))


def regime(page) -> str:
    return page.locator(".regime-badge").first.inner_text().strip()


def text(page, css: str) -> str:
    """The text of a Markdown pane (it lives in the pane's shadow root)."""
    return page.locator(f"{css} p").first.inner_text().strip()


def wait_for_text(page, css: str, words: str) -> str:
    page.locator(f"{css} p", has_text=words).first.wait_for(timeout=TIMEOUT_MS)
    return text(page, css)


def status(page) -> str:
    """The live run's status line (the first .task-status: the sweep has its own)."""
    return text(page, ".task-status")


def wait_for_steps(page, more_than: int, timeout_s: float = 90) -> int:
    start = time.time()
    while time.time() - start < timeout_s:
        steps = badge_steps(page)
        if steps > more_than:
            return steps
        page.wait_for_timeout(250)
    raise AssertionError(f"the step count stayed at {badge_steps(page)} (waited for > {more_than})")


def steady_steps(page, timeout_s: float = 30) -> int:
    """The step count once it stops changing (after a pause: the run's exact count, shown)."""
    start, before = time.time(), badge_steps(page)
    while time.time() - start < timeout_s:
        page.wait_for_timeout(500)
        now = badge_steps(page)
        if now == before:
            return now
        before = now
    raise AssertionError("the step count kept changing")


def wait_for_status(page, state: str) -> None:
    page.locator(".task-status").first.filter(has_text=state).wait_for(timeout=TIMEOUT_MS)


def wait_for_title(page, pattern: str) -> str:
    """The first plot title matching ``pattern`` (a regex), waiting for it."""
    start = time.time()
    while time.time() - start < TIMEOUT_MS / 1000:
        titles = [t for t in page.evaluate(TITLES_JS) if re.search(pattern, t or "")]
        if titles:
            return titles[0]
        page.wait_for_timeout(250)
    raise AssertionError(f"no plot title matches {pattern!r}: {page.evaluate(TITLES_JS)}")


def select(page, setting: str, value: str) -> None:
    """Choose ``value`` in the select widget of ``setting`` (a model parameter name)."""
    page.locator(f".reservoir-{setting.replace('_', '-')} select").first.select_option(value)


def setting_value(page, setting: str) -> str:
    """What the widget of ``setting`` shows: a select's choice, an input's text or a slider's value."""
    widget = page.locator(f".reservoir-{setting.replace('_', '-')}").first
    for kind in ("select", "input"):
        inner = widget.locator(kind)
        if inner.count():
            return inner.first.input_value()
    return widget.locator(".bk-slider-title").first.inner_text().split(":")[-1].strip()


def click_slider_start(page, setting: str) -> None:
    """Click the left end of a setting's slider (its lowest value)."""
    _click_slider(page, setting, at_end=False)


def click_slider_end(page, setting: str) -> None:
    """Click the right end of a setting's slider (its highest value)."""
    _click_slider(page, setting, at_end=True)


def _click_slider(page, setting: str, at_end: bool) -> None:
    slider = page.locator(f".reservoir-{setting.replace('_', '-')} .noUi-target").first
    box = slider.bounding_box()
    page.mouse.click(box["x"] + (box["width"] - 1 if at_end else 1), box["y"] + box["height"] / 2)


def scroll_to_top(page) -> None:
    """Back to the room's top (the template's main area scrolls, not the window), for screenshots."""
    page.evaluate("() => { window.scrollTo(0, 0); "
                  "for (const e of document.querySelectorAll('*')) if (e.scrollTop) e.scrollTop = 0 }")
    page.wait_for_timeout(300)
