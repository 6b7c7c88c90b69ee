"""How errors reach the person using the lab: a notification in the page, a traceback in the log."""
from __future__ import annotations

import logging
import traceback

import panel as pn

from engines.errors import EngineError

log = logging.getLogger("lab.errors")


def user_message(error: BaseException) -> str:
    """The text a user sees: engine errors are written for them; anything else is a bug."""
    if isinstance(error, EngineError):
        return str(error)
    return (f"Something went wrong ({type(error).__name__}: {error}). "
            "The lab is still usable; the details are in the server log.")


def show_message(area, kind: str, message: str, seconds: float) -> None:
    """Show one message in a session's notification ``area`` for ``seconds`` (it replaces the one
    on show). Why not Panel's own timed notifications: in Panel 1.9.4, once a timed notification
    has expired in the browser, later ones are never shown (reproduced with a bare Panel app:
    messages 3, 4 and 5 sent 4 s apart never appeared). Clearing the area and sending an untimed
    one, then clearing it from the server after ``seconds``, shows every message."""
    if area is None:
        return
    area.clear()
    shown = area.send(message, duration=0, type=kind)
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        def expire() -> None:
            if area.notifications and area.notifications[-1] is shown:
                area.clear()
        try:
            doc.add_timeout_callback(expire, int(seconds * 1000))
        except Exception:   # the session is closing: nothing left to clear
            pass


def notify_error(error: BaseException) -> None:
    """Log ``error`` and show it in the current session's page (if there is one)."""
    if isinstance(error, EngineError):
        log.warning("%s", error)
    else:
        log.error("uncaught exception in a callback:\n%s",
                  "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    show_message(pn.state.notifications, "error", user_message(error), 10)


def notify_info(message: str) -> None:
    show_message(pn.state.notifications, "info", message, 5)
