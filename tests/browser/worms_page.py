"""What the worm room's browser tests do again and again: open the room, open a tab, wait for
its plots, read what the page shows, find a neuron drawn in the 3D view."""
from __future__ import annotations

import io
import re

import numpy as np

from benchmarks.browser import wait_drawn
from benchmarks.worms_room import neuron_spots  # noqa: F401 (the benchmark clicks the same spots)

TIMEOUT_MS = 120_000   # the first session of a server also simulates the default worms

# True when the "neurons" traces figure has a row labelled ``name`` (its y tick labels).
TRACE_SHOWN_JS = """name => {
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const m of doc.all_models) {
      const title = m.title && m.title.text;
      if (!title || !title.startsWith('neurons') || !m.left) continue;
      for (const axis of m.left) {
        const o = axis.major_label_overrides;
        const labels = o instanceof Map ? [...o.values()] : Object.values(o || {});
        if (labels.includes(name)) return true;
      }
    }
  }
  return false;
}"""

# True when a Bokeh plot of the page has a title starting with ``prefix`` (titles are drawn on canvas).
TITLE_SHOWN_JS = """prefix => {
  for (const doc of (window.Bokeh ? Bokeh.documents : []))
    for (const m of doc.all_models)
      if (m.title && typeof m.title.text === 'string' && m.title.text.startsWith(prefix)) return true;
  return false;
}"""

TAB_PLOTS = {   # what must be drawn once a tab is shown
    "Activity": [".worm-heatmap", ".worm-traces"],
    "3D anatomy": [".neuron-scene-3d iframe"],
    "Connectome replay": [".worm-replay"],
    "Connectome partners": [".partner-traces"],
    "Compare worms": [".worm-compare"],
}


def open_worm_room(page, lab_url: str, query: str = "") -> None:
    page.goto(f"{lab_url}/lab?room=worms{query}", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".worm-status").get_by_text("samples").wait_for(timeout=TIMEOUT_MS)


def open_card(page, title: str) -> None:
    """Unfold the side panel's card ``title`` (a click on its header toggles it)."""
    header = page.locator(".card-header", has_text=title).first
    header.wait_for(timeout=TIMEOUT_MS)
    if header.locator(".icon-tabler-chevron-right").count():
        header.click()
        header.locator(".icon-tabler-chevron-down").wait_for(timeout=TIMEOUT_MS)


def open_tab(page, name: str, min_ink: float = 0.02) -> None:
    """Show tab ``name`` and wait until each of its plots is drawn (size and ink)."""
    page.locator(".bk-tab", has_text=name).click()
    for selector in TAB_PLOTS[name]:
        locator = page.locator(selector).first
        locator.wait_for(state="visible", timeout=TIMEOUT_MS)
        if selector.endswith("iframe"):
            page.frame_locator(selector).first.locator("canvas").first.wait_for(timeout=TIMEOUT_MS)
        wait_drawn(locator, min_ink, what=f"{name}: {selector}")


def status(page) -> str:
    return page.locator(".worm-status").inner_text()


def time_readout(page) -> float:
    text = page.locator(".time-readout").inner_text()
    return float(re.search(r"t = ([\d.]+) s", text).group(1))


def trace_shown(page, name: str) -> bool:
    return bool(page.evaluate(TRACE_SHOWN_JS, name))


def worm_extent(png: bytes, exclude_right: float = 0.14) -> float:
    """Share of the 3D view's width that drawn neurons (grey or coloured) span."""
    from PIL import Image
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    height, width, _ = rgb.shape
    body = rgb[int(height * 0.1):int(height * 0.88), :int(width * (1 - exclude_right))]
    inked = np.flatnonzero((np.abs(body - 255).sum(axis=2) > 60).any(axis=0))
    return float(inked[-1] - inked[0]) / width if inked.size else 0.0
