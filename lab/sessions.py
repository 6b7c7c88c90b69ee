"""Tie a room's long work to the browser session that started it."""
from __future__ import annotations

from typing import Callable


def on_session_end(callback: Callable[[], None]) -> None:
    """Call ``callback()`` when the current browser session is destroyed (the tab closed).

    Does nothing outside a Panel session: engines, scripts and tests run without one.
    """
    try:
        import panel as pn
    except ImportError:  # engines and scripts may run without panel installed
        return
    if pn.state.curdoc is None:
        return
    pn.state.on_session_destroyed(lambda _context: callback())
