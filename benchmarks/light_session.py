"""A light browser session for load tests: it opens a room's page and speaks Bokeh's websocket
protocol as BokehJS does, without drawing anything.

Like a browser it GETs the page (which makes the session on the server), connects the page's
websocket with the session token, asks for the document, clicks buttons and changes widget values
(PATCH-DOC events, as BokehJS sends them), and keeps reading what the server sends. It does not
build Bokeh models: it keeps every object's attributes as plain JSON, updated by the server's
ModelChanged events, so a test can read a status line the way a student would read it.

    session = LightSession(base_url, "fields")
    await session.open()
    await session.set_value(session.find(css_class="fields-seed"), 3)
    await session.click(session.find(name="Button", label="Train"))
    session.text_of(css_class="task-status")
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

TOKEN = re.compile(r'"token":"([^"]+)"')
DOCS_JSON = re.compile(r'<script type="application/json" id="[^"]+">\s*(\{.*?\})\s*</script>', re.S)


class LightSession:
    def __init__(self, base_url: str, room: str):
        self.base_url, self.room = base_url.rstrip("/"), room
        self.objects: dict[str, dict[str, Any]] = {}   # id -> {"name": ..., "attributes": {...}}
        self.closed = False
        self.error: str | None = None
        self.opened_s: float | None = None
        self._socket = None
        self._reader: asyncio.Task | None = None

    # ---- opening ----------------------------------------------------------------------------
    async def open(self) -> None:
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect
        started = time.perf_counter()
        response = await AsyncHTTPClient().fetch(f"{self.base_url}/lab?room={self.room}", request_timeout=300)
        html = response.body.decode()
        token = TOKEN.search(html).group(1)
        for docs in DOCS_JSON.findall(html):
            self._learn(json.loads(docs))
        ws_url = self.base_url.replace("http", "ws", 1) + "/lab/ws"
        request = HTTPRequest(ws_url, connect_timeout=300, request_timeout=300)
        self._socket = await websocket_connect(request, subprotocols=["bokeh", token],
                                               max_message_size=512 * 2**20)
        self._receiver = Receiver(Protocol())
        await self._next_message()                            # ACK
        await self._pull_document()
        self.opened_s = time.perf_counter() - started
        self._reader = asyncio.ensure_future(self._read_forever())

    async def _pull_document(self) -> None:
        await self._send("PULL-DOC-REQ", {})
        # The connection is subscribed before it pulls: a patch made meanwhile (the reservoir room
        # builds its other tabs just after the first paint) can arrive before the document does
        while (reply := await self._next_message()).msgtype != "PULL-DOC-REPLY":
            if reply.msgtype == "PATCH-DOC":
                self._apply(reply.content.get("events", []))
        self._learn(reply.content)
        # BokehJS says so once the page is drawn; Panel runs its onload work (and draws that waits
        # for it) only then
        await self._send("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
            "type": "event", "name": "document_ready", "values": {"type": "map"}}}]})

    async def close(self) -> None:
        self.closed = True
        if self._socket is not None:
            self._socket.close()
        if self._reader is not None:
            self._reader.cancel()

    # ---- what the page shows ------------------------------------------------------------------
    def find(self, name: str | None = None, css_class: str | None = None, **attributes) -> str | None:
        """The id of the first object (in the order the page made them) matching a model name,
        a CSS class and attribute values."""
        for object_id in sorted(self.objects, key=lambda i: (len(i), i)):
            entry = self.objects[object_id]
            values = entry["attributes"]
            if name is not None and not str(entry["name"]).endswith(name):
                continue
            if css_class is not None and css_class not in (values.get("css_classes") or []):
                continue
            if all(values.get(key) == value for key, value in attributes.items()):
                return object_id
        return None

    def texts_of(self, css_class: str | None = None, containing: str | None = None) -> list[str]:
        """The plain texts (tags stripped) of the elements with ``css_class``, or whose HTML holds
        ``containing``, in the order the page made them."""
        texts = []
        for object_id in sorted(self.objects, key=lambda i: (len(i), i)):
            values = self.objects[object_id]["attributes"]
            html = str(values.get("text", ""))
            if css_class is not None and css_class not in (values.get("css_classes") or []):
                continue
            if containing is not None and containing not in html:
                continue
            text = re.sub(r"&lt;.*?&gt;|<[^>]*>", "", html)
            texts.append(text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"'))
        return texts

    def text_of(self, css_class: str) -> str:
        """The plain text of the first element with ``css_class``."""
        texts = self.texts_of(css_class)
        return texts[0] if texts else ""

    # ---- acting as a student ------------------------------------------------------------------
    async def click(self, button_id: str) -> None:
        event = {"type": "event", "name": "button_click",
                 "values": {"type": "map", "entries": [["model", {"id": button_id}]]}}
        await self._send("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                                                   "msg_data": event}]})

    async def set_value(self, widget_id: str, value, attr: str = "value") -> None:
        self.objects[widget_id]["attributes"][attr] = value
        await self._send("PATCH-DOC", {"events": [{"kind": "ModelChanged", "model": {"id": widget_id},
                                                   "attr": attr, "new": value}]})

    # ---- the protocol -------------------------------------------------------------------------
    async def _send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": uuid.uuid4().hex, "msgtype": msgtype, "num_buffers": 0}
        for part in (header, {}, content):
            await self._socket.write_message(json.dumps(part))

    async def _next_message(self):
        while True:
            fragment = await self._socket.read_message()
            if fragment is None:
                raise ConnectionError("the server closed the websocket")
            message = await self._receiver.consume(fragment)
            if message is not None:
                return message

    async def _read_forever(self) -> None:
        try:
            while not self.closed:
                message = await self._next_message()
                if message.msgtype == "PATCH-DOC":
                    self._apply(message.content.get("events", []))
        except asyncio.CancelledError:
            pass
        except Exception as error:   # the connection dropped: a failure the benchmark counts
            if not self.closed:
                self.error = f"{type(error).__name__}: {error}"

    def _apply(self, events: list) -> None:
        for event in events:
            self._learn(event)
            if event.get("kind") == "ModelChanged":
                target = self.objects.get(event["model"]["id"])
                if target is not None:
                    target["attributes"][event["attr"]] = event["new"]

    def _learn(self, tree) -> None:
        """Remember every object the JSON defines (with its attributes)."""
        stack = [tree]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if item.get("type") == "object" and "id" in item and "attributes" in item:
                    self.objects[item["id"]] = {"name": item.get("name"), "attributes": item["attributes"]}
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
