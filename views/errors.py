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


def notify_error(error: BaseException) -> None:
    """Log ``error`` and show it in the current session's page (if there is one)."""
    if isinstance(error, EngineError):
        log.warning("%s", error)
    else:
        log.error("uncaught exception in a callback:\n%s",
                  "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    notifications = pn.state.notifications
    if notifications is not None:
        notifications.error(user_message(error), duration=10000)


def notify_info(message: str) -> None:
    if pn.state.notifications is not None:
        pn.state.notifications.info(message, duration=5000)
