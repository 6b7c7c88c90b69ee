"""Drawing from any thread: hand work to the browser session's event loop.

Room models publish results from background threads (training, simulation, sweeps). Bokeh models
belong to their session's event loop: a thread that replaces or edits them directly leaves the
browser with references it does not know (or races the loop's own serialisation). Work scheduled
before the browser has its document waits until it has (a patch sent earlier is lost). Setting plain
param values from a thread is safe (Panel schedules those itself); anything that touches Bokeh
objects, replaces panes or edits a VTK scene goes through here.

    in_session(draw)            # draw() on the loop now if we are on it, else at its next tick
    redraw = Redraw(draw)       # a watcher: model.param.watch(redraw, [...]) from any thread

``Redraw`` keeps at most one redraw pending (later calls collapse into it: the page always
shows the newest state) and lets redraws take at most ``max_loop_share`` of the loop's time, so
clicks stay responsive while a model publishes many frames a second.
"""
from __future__ import annotations

import logging
import threading
import time
from functools import partial
from typing import Callable

import panel as pn
import param
from panel.custom import JSComponent
from panel.io.state import set_curdoc

log = logging.getLogger("lab.views")
SCHEDULE_TRIES = 5


def _served(doc) -> bool:
    return doc is not None and doc.session_context is not None


def _may_edit_now(doc) -> bool:
    """True while the document is still being built (no server session yet) or the loop runs a
    callback under its lock (Bokeh counts that callback's writes). Panel runs some browser events
    without the lock (a click that arrives while a widget change is still debounced goes through
    an unlocked coroutine); a Bokeh model edited there raises "_pending_writes should be non-None"
    and the page misses the change, so such work waits for the next (locked) tick."""
    session = getattr(doc.session_context, "session", None)
    return session is None or getattr(session, "_pending_writes", None) is not None


def _run_with_doc(doc, fn: Callable[[], None]) -> None:
    with set_curdoc(doc):
        if pn.state.loaded:
            fn()
        else:
            # The browser has not made its document yet: BokehJS silently drops a patch that
            # arrives before then, while the server counts the models in it as sent, so every
            # later patch that refers to them fails ("reference pN isn't known") and the page
            # stops updating. Panel runs this once the page reports its document ready.
            pn.state.onload(fn)


class SessionLoop:
    """The session (document) that was current when this was made, and a way to run code on it."""

    def __init__(self):
        self.doc = pn.state.curdoc
        self._thread = threading.current_thread()  # the thread that runs the session's loop
        self._was_served = _served(self.doc)

    @property
    def served(self) -> bool:
        """True in a served page; False in tests and notebooks, where work runs at once."""
        return _served(self.doc)

    @property
    def ended(self) -> bool:
        """The page this was made for has closed (its session is being or has been destroyed)."""
        return self._was_served and not self.served

    def on_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, fn: Callable[[], None], delay: float = 0.0) -> bool:
        """``fn()`` on the session's loop: now if already there (or not served), else scheduled;
        dropped once the page has closed. Returns False when ``fn`` was dropped."""
        if self.ended:
            # Never draw from the calling thread then: a background thread (a training run
            # publishing its last result as the tab closes) would edit Bokeh/VTK objects off the
            # loop, and VTK aborts the whole server when two threads touch its OpenGL state.
            log.debug("session ended, dropped a redraw")
            return False
        if not self.served or (delay <= 0 and self.on_loop() and pn.state.curdoc is self.doc
                               and _may_edit_now(self.doc)):
            fn()
            return True
        for attempt in range(SCHEDULE_TRIES):
            try:
                if delay > 0:
                    self.doc.add_timeout_callback(partial(_run_with_doc, self.doc, fn), int(delay * 1000) + 1)
                else:
                    self.doc.add_next_tick_callback(partial(_run_with_doc, self.doc, fn))
                return True
            except Exception as error:
                # Bokeh's document callbacks are not thread-safe: adding one from a thread while
                # the loop changes them can fail; a dropped redraw would leave the page showing
                # an old state (the last one, when no other change follows), so try again
                if self.ended:
                    return False
                if attempt == SCHEDULE_TRIES - 1:
                    log.warning("could not schedule a redraw: %r", error)
                    return False
                time.sleep(0.01)
        return False


def in_session(fn: Callable[[], None]) -> None:
    """Run ``fn`` on the current session's loop (for one-off calls made while a session is current)."""
    SessionLoop().run(fn)


class Redraw:
    """A watcher callback that runs ``draw()`` on the session's loop, latest only, throttled.

    Make it while the session is current (when the view is built); call it from any thread.
    """

    def __init__(self, draw: Callable[[], None], max_loop_share: float = 0.5, min_interval: float = 0.0):
        self._draw = draw
        self._loop = SessionLoop()
        self._max_share, self._min_interval = max_loop_share, min_interval
        self._pending = False
        self._lock = threading.Lock()
        self._next_allowed = 0.0

    def __call__(self, *_events) -> None:
        with self._lock:
            if self._pending:
                return  # the pending redraw will draw the newest state
            self._pending = True
        if not self._loop.run(self._run):
            with self._lock:
                self._pending = False   # not scheduled: the next change must be able to redraw

    def _run(self) -> None:
        wait = self._next_allowed - time.perf_counter()
        if wait > 0 and self._loop.served and self._loop.run(self._run, delay=wait):
            return   # this loop's share for redraws is spent: come back then (or draw now if that failed)
        with self._lock:
            self._pending = False
        started = time.perf_counter()
        try:
            self._draw()
        finally:
            took = time.perf_counter() - started
            rest = took * (1.0 / self._max_share - 1.0)
            self._next_allowed = time.perf_counter() + max(rest, self._min_interval - took)


class FirstPaint(JSComponent):
    """Tells the server once the browser has drawn it. Placed last in a room's layout, it says
    the room is on screen: ``then(callback)`` runs the work that must wait for that.

    Why: a room built by a click arrives in one patch, and BokehJS builds its views
    asynchronously; a second patch that changes one of its widgets before that widget's view
    is drawn throws inside BokehJS (``setting 'value'`` / ``reading 'getValue'``), and the rest
    of that patch is lost, so the room never showed its data. Work that updates the room at once
    (a cached simulation shown, hidden tabs built) waits for this instead.
    """

    drawn = param.Boolean(default=False, doc="Set by the browser once it has drawn this (and so the room).")

    _esm = """
    export function render({ model }) {
      // two frames: the room laid out and painted, not only attached
      requestAnimationFrame(() => requestAnimationFrame(() => { model.drawn = true }))
      const holder = document.createElement("span")
      holder.style.display = "none"
      return holder
    }
    """

    def __init__(self, **params):
        for name in ("width", "height", "margin"):
            params.setdefault(name, 0)
        super().__init__(**params)
        self._waiting: list[Callable[[], None]] = []
        self._served = SessionLoop().served
        self.param.watch(self._on_drawn, "drawn")

    def then(self, callback: Callable[[], None]) -> None:
        """``callback()`` once the browser has drawn the room (at once outside a served page)."""
        if self.drawn or not self._served:
            callback()
        else:
            self._waiting.append(callback)

    def _on_drawn(self, event) -> None:
        if event.new:
            waiting, self._waiting = self._waiting, []
            for callback in waiting:
                callback()
