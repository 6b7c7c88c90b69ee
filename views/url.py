"""The page's address as state: what the user set is in the URL, and Back/Forward restore it.

Panel's own ``pn.state.location.sync`` writes the URL but never hears the browser's Back and
Forward buttons (it has no 'popstate' listener), so Back changed the address and left the page
as it was. ``UrlState`` is a tiny browser component that does both: a new ``query`` from the
server pushes a history entry (entries pushed within a second of each other are merged, so one
click that sets several parameters is one step back), and Back/Forward send the restored query
to the server, which puts the page in that state.

``query_string(values)`` and ``parse_query(text)`` convert between the query and a flat dict of
strings; which parameters go in it is the shell's and the rooms' business.
"""
from __future__ import annotations

import urllib.parse

import param
from panel.custom import JSComponent


def parse_query(text: str) -> dict[str, str]:
    """``"?room=fields&model=gnf"`` -> ``{"room": "fields", "model": "gnf"}`` (last value wins)."""
    return dict(urllib.parse.parse_qsl(text.lstrip("?"), keep_blank_values=True))


def query_string(values: dict[str, object]) -> str:
    """The query for ``values`` (empty values left out), with its leading '?' ('' when empty)."""
    kept = {name: str(value) for name, value in values.items() if value not in (None, "")}
    return "?" + urllib.parse.urlencode(kept) if kept else ""


class UrlState(JSComponent):
    """Two-way binding of the page's query string; place it anywhere in the page (it draws nothing)."""

    query = param.String(default="", doc="The query string with its '?', as the address bar shows it.")

    _esm = """
    export function render({ model }) {
      let lastPush = 0
      const restore = () => { model.query = window.location.search }
      window.addEventListener("popstate", restore)
      model.on("query", () => {
        if (model.query === window.location.search) return
        const url = window.location.pathname + model.query + window.location.hash
        const now = Date.now()
        if (now - lastPush < 1000) window.history.replaceState({}, "", url)
        else window.history.pushState({}, "", url)
        lastPush = now
      })
      model.on("remove", () => window.removeEventListener("popstate", restore))
      const holder = document.createElement("span")
      holder.style.display = "none"
      return holder
    }
    """

    def __init__(self, **params):
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
