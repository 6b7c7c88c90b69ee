"""Tie a room's long work to the browser session that started it."""
from __future__ import annotations

import asyncio
import threading
from typing import Callable


def on_session_end(callback: Callable[[], None]) -> None:
    """Call ``callback()`` when the current browser session is destroyed (the tab closed).

    Does nothing outside a Panel session: engines, scripts and tests run without one, and so does
    a background thread (a task's, a worker's). There Panel's "current document" falls back to
    whichever session the server's event loop is serving at that moment, so a resource made in a
    task thread would be closed when some other student's session ended; the room that owns it
    closes it instead.
    """
    try:
        import panel as pn
    except ImportError:  # engines and scripts may run without panel installed
        return
    if not _in_session_code(pn) or pn.state.curdoc is None:
        return
    pn.state.on_session_destroyed(lambda _context: callback())


def _in_session_code(pn) -> bool:
    """Whether this thread runs a session's code: the server's event loop (the main thread), or a
    thread Panel started for one session (it carries that session's document)."""
    if threading.current_thread() is threading.main_thread():
        return True
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    context = getattr(pn.state, "_curdoc", None)
    return context is not None and context.get() is not None
