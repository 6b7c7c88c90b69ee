"""Neurons in 3-D that a user can point at: a reusable, pickable view for any room.

    scene = NeuronScene3D(on_pick=model.pick, height=440)
    scene.show(positions, values, label="activity (z-score)")   # index: names; x, y, z columns
    scene.recolour(values)                                       # new colours, same neurons
    scene.mark(["AVAL", "RIML"], focus="AVAL")                   # highlighted, focus named
    layout = pn.Column(scene)                                    # a Viewer: place it anywhere

A click on a neuron calls ``on_pick(name)`` on the session's loop and names it at the point;
hovering shows its name and value. ``positions`` needs columns x, y, z (anatomical units: the
body axis is y); ``values`` is a Series by name (NaN: drawn grey, e.g. not recorded).

Why trame and not Panel's VTK pane: the VTK pane renders the scene on the server at each sync
and reports no picks back to Python. Here pyvista builds the scene, trame-vtk's local view
ships the geometry once and vtk.js draws it in the browser; the browser picks a neuron
(views/anatomy3d_scene.py) and tells the server over trame's websocket. The trame app runs on
wslink's generic backend and is served through the lab's own server (lab/trame_routes.py):
same origin, same access control, no extra port. The page embeds it in an iframe (trame's
client is a Vue app of its own).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import secrets
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import panel as pn

from lab import trame_routes
from views.session import SessionLoop

log = logging.getLogger("lab.views.anatomy3d")
RADIUS = 0.035            # sphere radius in atlas units (neighbouring head neurons lie ~0.05 apart)
ASPECT = 1.9              # the narrowest width/height the camera is framed for
PICK_DELAY_S = 0.03       # the pick's label goes out before the room's redraws start
NOT_SERVED = ("The 3D view is drawn in the browser when the lab is served "
              "(`panel serve lab --plugins lab.not_found`).")


class TrameApp:
    """One trame server for one browser session, served under /trame/<key>/ (lab/trame_routes)."""

    def __init__(self):
        from trame.app import get_server
        self.key = secrets.token_hex(16)
        self.server = get_server(f"lab-{self.key}", client_type="vue3")
        parser = self.server.cli  # trame reads sys.argv (panel serve's arguments): give it none
        parser.parse_known_args = functools.partial(argparse.ArgumentParser.parse_known_args, parser, [])
        self.started = False

    @property
    def src(self) -> str:
        # trame's client lowercases the URL it is given and fills in USE_HOST itself
        return (f"/{trame_routes.PREFIX}/{self.key}/index.html"
                f"?sessionURL=ws://USE_HOST/{trame_routes.PREFIX}/{self.key}/ws")

    def start(self) -> None:
        """Start the app on the running event loop (the Bokeh server's) and register its routes."""
        self.server.start(exec_mode="task", backend="generic", port=0, open_browser=False,
                          show_connection_info=False, disable_logging=True, timeout=0)
        generic = self.server._server  # wslink's generic server: an endpoint, no socket
        folders = {"": self.server._www}
        folders.update({prefix: value[0] if isinstance(value, (list, tuple)) else value
                        for prefix, value in self.server.serve.items()})
        trame_routes.register(self.key, generic[generic.ws_endpoints[0]], folders)
        self.started = True

    def close(self) -> None:
        from trame.app.core import AVAILABLE_SERVERS
        trame_routes.unregister(self.key)
        AVAILABLE_SERVERS.pop(f"lab-{self.key}", None)
        if self.started:
            try:
                asyncio.ensure_future(self.server.stop())
            except RuntimeError:  # no event loop left (the server is shutting down)
                pass
            self.started = False


class NeuronScene3D(pn.viewable.Viewer):
    """Spheres at neurons' positions, coloured by a value; pick by click, name on hover."""

    def __init__(self, on_pick: Callable[[str], None] | None = None, height: int = 440,
                 cmap: str = "viridis", **params):
        super().__init__(**params)
        self._on_pick = on_pick
        self._height, self._cmap = height, cmap
        self._loop = SessionLoop()
        self._positions = pd.DataFrame(columns=["x", "y", "z"])
        self._values = pd.Series(dtype=float)
        self._label, self._clim = "", (0.0, 1.0)
        self._app: TrameApp | None = None
        self._camera_pushed = False
        self.pane = pn.pane.HTML(NOT_SERVED, height=height, sizing_mode="stretch_width",
                                 css_classes=["neuron-scene-3d"])
        if self._loop.served:
            self._build()

    def __panel__(self):
        return self.pane

    # ---- what is drawn -----------------------------------------------------------------------
    def show(self, positions: pd.DataFrame, values: pd.Series | None = None, label: str = "",
             clim: tuple[float, float] | None = None) -> None:
        """Draw ``positions`` (x, y, z by name) coloured by ``values`` (NaN: grey)."""
        self._positions = positions[["x", "y", "z"]].astype(float)
        self._label = label
        self._values = self._aligned(values)
        self._clim = clim or self._range(self._values)
        if self._app is not None:
            self._scene.draw(self._positions, self._values, label, self._clim)
            self._scene.label_neurons(self._positions.index, map(self.value_text, self._positions.index))
            self._camera_pushed = False
            self._push()

    def recolour(self, values: pd.Series, label: str | None = None) -> None:
        """New values for the neurons on show (same positions)."""
        self._values = self._aligned(values)
        if label is not None:
            self._label = label
        if self._app is not None:
            self._scene.recolour(self._values, self._clim)
            self._scene.label_neurons(self._positions.index, map(self.value_text, self._positions.index))
            self._push()

    def mark(self, names: Iterable[str], focus: str | None = None) -> None:
        """Highlight ``names`` (e.g. the neurons whose traces are shown) and name ``focus``."""
        if self._app is None:
            return
        shown = [n for n in names if n in self._positions.index]
        self._scene.mark(self._positions.loc[shown])
        self._app.server.state.focus_text = focus or ""
        self._push()

    def value_text(self, name: str) -> str:
        value = self._values.get(name, np.nan)
        shown = "not recorded" if not np.isfinite(value) else f"{value:.2f}"
        return f"{name} · {self._label}: {shown}" if self._label else f"{name} · {shown}"

    @staticmethod
    def _range(values: pd.Series) -> tuple[float, float]:
        finite = values[np.isfinite(values)]
        if finite.empty:
            return (0.0, 1.0)
        low, high = np.percentile(finite, [1, 99])
        return float(low), float(max(high, low + 1e-6))

    def _aligned(self, values: pd.Series | None) -> pd.Series:
        if values is None:
            return pd.Series(np.nan, index=self._positions.index)
        return values.reindex(self._positions.index).astype(float)

    # ---- the trame app -------------------------------------------------------------------------
    def _build(self) -> None:
        from views.anatomy3d_scene import SceneApp
        self._app = TrameApp()
        self._scene = SceneApp(self._app.server, self._height, self._cmap, self._clicked, self._loaded)
        self._app.start()
        self.pane.object = (f'<iframe src="{self._app.src}" title="3D view" '
                            f'style="width:100%;height:{self._height - 10}px;border:0;display:block"></iframe>')

    def _push(self) -> None:
        self._loop.run(self._scene.push)

    def _loaded(self) -> None:
        if not self._camera_pushed:  # vtk.js resets the camera when it mounts: frame the worm again
            self._camera_pushed = True
            self._scene.push_camera()

    def _clicked(self, name: str) -> None:
        """The browser named the neuron clicked (views/anatomy3d_scene.py PICK_JS)."""
        if name in self._positions.index and self._on_pick is not None:
            # after a short delay, so the browser hears back before the room redraws
            self._loop.run(lambda: self._on_pick(name), delay=PICK_DELAY_S)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._scene.close()
            self._app = None
