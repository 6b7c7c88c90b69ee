"""trame apps served by the lab's own server: same origin, same access control, no extra port.

A trame app (views/anatomy3d.py) normally listens on a port of its own (aiohttp). Here each one
runs on wslink's *generic* backend, which opens no socket, and registers itself under a random
key; two routes added to Panel's Tornado server (``panel serve lab --plugins lab.not_found``,
which includes these) carry its traffic:

    /trame/<key>/ws        the app's websocket (messages passed to and from wslink)
    /trame/<key>/<file>    the trame client's files (index.html, its JS and the vtk.js bundle)

Both routes sit behind the server's authentication (Panel's --basic-auth or OAuth, through
Bokeh's ``AuthRequestHandler``) and its websocket origin rules; the key (128 random bits) is
known only to the session whose page embeds the app, and is dropped when that session ends.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bokeh.server.views.auth_request_handler import AuthRequestHandler
from bokeh.server.views.ws import WSHandler
from tornado import web
from tornado.websocket import WebSocketHandler

log = logging.getLogger("lab.trame")
PREFIX = "trame"


@dataclass(frozen=True)
class ServedApp:
    endpoint: object              # wslink's generic websocket endpoint of the app
    folders: dict                 # URL prefix ('' for the root) -> folder of the client's files


_APPS: dict[str, ServedApp] = {}
_LOCK = threading.Lock()


def register(key: str, endpoint, folders: dict[str, str]) -> None:
    with _LOCK:
        _APPS[key] = ServedApp(endpoint, {prefix: Path(folder).resolve() for prefix, folder in folders.items()})


def unregister(key: str) -> None:
    with _LOCK:
        _APPS.pop(key, None)


def registered(key: str) -> ServedApp | None:
    with _LOCK:
        return _APPS.get(key)


class _Message:
    """What wslink's generic endpoint reads a message from (its ``.data``)."""

    def __init__(self, data):
        self.data = data


class TrameSocket(AuthRequestHandler, WebSocketHandler):
    """The websocket of one registered trame app."""

    def check_origin(self, origin: str) -> bool:
        return WSHandler.check_origin(self, origin)  # the Bokeh server's own allow-list

    async def get(self, *args, **kwargs) -> None:
        # checked before the upgrade: a socket cannot follow a redirect to the login page, and a
        # refusal inside open() would come after the handshake had already been accepted
        if not self.current_user:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    async def open(self, key: str) -> None:
        self._connection = None
        app = registered(key)
        if app is None:
            self.close(code=4404, reason="no such 3D view (its session ended)")
            return
        self._connection = await app.endpoint.connect()
        self._connection.on_message(self._to_browser)

    async def _to_browser(self, binary: bool, content) -> None:
        try:
            await self.write_message(content, binary)
        except Exception:  # the browser went away; wslink learns it from on_close
            log.debug("trame message to a closed socket dropped")

    async def on_message(self, message) -> None:
        if self._connection is not None:
            await self._connection.send(not isinstance(message, str), _Message(message))

    def on_close(self) -> None:
        if getattr(self, "_connection", None) is not None:
            asyncio.ensure_future(self._connection.close())


class TrameFiles(AuthRequestHandler, web.StaticFileHandler):
    """The trame client's files for a registered app (read only inside its folders)."""

    def initialize(self) -> None:
        super().initialize(path="/")

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return path  # ``path`` is already resolved by get() below

    def validate_absolute_path(self, root: str, absolute_path: str) -> str:
        if not Path(absolute_path).is_file():
            raise web.HTTPError(404)
        return absolute_path

    @web.authenticated
    async def get(self, key: str, path: str, include_body: bool = True) -> None:
        app = registered(key)
        if app is None:
            raise web.HTTPError(404)
        await super().get(str(_locate(app.folders, path or "index.html")), include_body)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")


def _locate(folders: dict[str, Path], path: str) -> Path:
    """The file ``path`` names under the app's folders; 404 outside them."""
    prefix, _, rest = path.partition("/")
    folder, inner = (folders[prefix], rest) if prefix in folders and prefix else (folders[""], path)
    target = (folder / inner).resolve()
    if folder != target and folder not in target.parents:
        raise web.HTTPError(404)
    return target


KEY = r"([0-9a-f]{32})"
ROUTES = [(rf"/{PREFIX}/{KEY}/ws", TrameSocket, {}),
          (rf"/{PREFIX}/{KEY}/(.*)", TrameFiles, {})]
