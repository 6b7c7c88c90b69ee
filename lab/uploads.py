"""One upload limit for the whole lab (``lab.settings``: NEURAL_LAB_UPLOAD_MB): the check every
room's upload path makes, and the server's websocket cap raised to carry uploads up to it.

Why the cap: a Panel FileInput sends its files base64-encoded (4/3 of their size) in one
websocket message, and Bokeh's server closes the connection on a message over 20 MB without a
word to the user. ``raise_websocket_cap()`` (lab/main.py calls it, so plain ``panel serve lab``
gets it; every page is built before its websocket connects) lets messages through up to twice
the limit, so a file somewhat over the limit reaches the room and is refused there with a message
that names the limit. An explicit, larger ``--websocket-max-message-size`` is kept.
"""
from __future__ import annotations

from engines.errors import InvalidInputError
from lab.settings import current

BOKEH_DEFAULT_CAP = 20 * 2**20
TORNADO_BUFFER = 100 * 2**20     # Tornado's default max_buffer_size: no message may exceed it
HEADROOM = 2**20                 # JSON around the base64 payload


def limit_text() -> str:
    """The limit in words, for widgets' labels: 'up to 50 MB'."""
    return f"up to {current().upload_limit_mb:g} MB"


def check_size(files, what: str = "the upload") -> None:
    """Refuse ``files`` (bytes, or (name, bytes) pairs) when together they exceed the limit."""
    if isinstance(files, (bytes, bytearray, memoryview)):
        files = [(what, files)]
    total = sum(len(data) for _name, data in files)
    settings = current()
    if total > settings.upload_limit_bytes:
        names = ", ".join(name for name, _ in files)
        raise InvalidInputError(f"{names} is {_size(total)}; uploads to this lab are limited to "
                                f"{settings.upload_limit_mb:g} MB (the operator sets NEURAL_LAB_UPLOAD_MB). "
                                "Larger datasets can be put in the lab's data folder.")


def _size(nbytes: int) -> str:
    return f"{nbytes / 2**10:,.0f} KB" if nbytes < 2**20 / 10 else f"{nbytes / 2**20:,.1f} MB"


def websocket_cap_bytes(limit_bytes: int | None = None) -> int:
    """The websocket message size that carries an upload of twice ``limit_bytes``."""
    limit = current().upload_limit_bytes if limit_bytes is None else limit_bytes
    wanted = int(2 * limit * 4 / 3) + HEADROOM
    return min(max(wanted, BOKEH_DEFAULT_CAP), TORNADO_BUFFER - HEADROOM)


def raise_websocket_cap() -> None:
    """Let this server's websockets carry messages up to ``websocket_cap_bytes()`` (idempotent).

    Tornado reads a handler's ``max_message_size`` when a websocket connects; Bokeh's handler
    class gets a property that answers the larger of the server's own setting and the lab's cap.
    """
    from bokeh.server.views.ws import WSHandler
    if getattr(WSHandler, "_lab_cap_raised", False):
        return
    server_setting = WSHandler.max_message_size  # tornado's property: the application setting

    def max_message_size(handler) -> int:
        return max(server_setting.fget(handler), websocket_cap_bytes())

    WSHandler.max_message_size = property(max_message_size)
    WSHandler._lab_cap_raised = True
