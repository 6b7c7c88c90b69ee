"""Redraw a view from the session's event loop when its model has published something new.

The model publishes snapshots from its background thread. Drawing them touches Bokeh and VTK
models, which only the session's own thread may do, so the watcher only raises a flag and a
periodic callback of the session (run on its event loop) redraws when the flag is up. Redraws
are spaced by at least ``min_interval`` and by ``busy_factor`` times the last redraw's
duration, so drawing never takes more than ~1/(busy_factor + 1) of the server's time and the
page stays responsive while a model trains. Several snapshots between two redraws collapse
into one: the page always shows the newest.
"""
from __future__ import annotations

import time
from typing import Callable

import panel as pn
from panel.io.callbacks import PeriodicCallback

POLL_MS = 100


class LatestOnly:
    """A watcher callback that schedules ``draw()`` on the session's event loop."""

    def __init__(self, draw: Callable[[], None], min_interval: float = 0.25, busy_factor: float = 3.0):
        self._draw = draw
        self._dirty = False
        self._min_interval, self._busy_factor = min_interval, busy_factor
        self._next_allowed = 0.0
        doc = pn.state.curdoc
        self._served = doc is not None and doc.session_context is not None
        if self._served:
            # background: polling is not work the user waits for. Counted as busy, the polls kept
            # the page's busy spinner animating at 60 frames/s, ~10% of a core taken from training
            self._callback = PeriodicCallback(callback=self._poll, period=POLL_MS, background=True)
            self._callback.start()  # session-scoped: it ends with the session

    def __call__(self, *_events) -> None:
        if not self._served:
            self._draw()  # no served session (tests, notebooks): draw now
            return
        self._dirty = True  # a plain flag: safe to raise from any thread

    def _poll(self) -> None:
        if not self._dirty or time.monotonic() < self._next_allowed:
            return
        self._dirty = False
        started = time.monotonic()
        self._draw()
        took = time.monotonic() - started
        self._next_allowed = time.monotonic() + max(self._min_interval, self._busy_factor * took)
