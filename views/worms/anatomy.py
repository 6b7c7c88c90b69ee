"""The worm's neurons at their anatomical positions (wormneuroatlas), coloured by activity at
the time cursor: a pyvista 3D view and a clickable side view (click a neuron to add its trace;
the VTK pane reports no picks to the server, so picking happens in the side view)."""
from __future__ import annotations

import time as clock

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pyvista as pv

pv.OFF_SCREEN = True
SYNC_INTERVAL_S = 1.0  # server-side VTK renders are slow: at most one sync per second
UNRECORDED_VALUE = np.nan


class Anatomy3D:
    """A pyvista scene of small spheres, one per neuron, recoloured by assigning new arrays."""

    def __init__(self, positions: pd.DataFrame, height: int = 380, width: int = 860):
        self._plotter = pv.Plotter(off_screen=True)
        self._plotter.background_color = "white"
        self._sphere = pv.Sphere(radius=0.035, theta_resolution=10, phi_resolution=10)
        self._mesh = None
        self._last_sync = 0.0
        self._build_scene(positions)
        # The pane is made after the scene exists: the browser takes its first camera from it.
        self.pane = pn.pane.VTK(self._plotter.ren_win, height=height, width=width,
                                orientation_widget=True, enable_keybindings=True)

    def _per_vertex(self, values: np.ndarray) -> np.ndarray:
        return np.repeat(values, self._sphere.n_points).astype(np.float32)

    def show(self, positions: pd.DataFrame) -> None:
        """Rebuild the scene for a new recording (positions with x, y, z, recorded, activity)."""
        self._build_scene(positions)
        self.pane.synchronize()
        self.pane.reset_camera()  # fit the whole worm in the browser's view too

    def _build_scene(self, positions: pd.DataFrame) -> None:
        points = positions[["y", "x", "z"]].to_numpy(dtype=np.float32)  # body axis along x
        glyphs = pv.PolyData(points).glyph(geom=self._sphere, scale=False, orient=False)
        glyphs.point_data["activity"] = self._per_vertex(self._values(positions))
        self._plotter.clear()
        self._mesh = glyphs
        self._plotter.add_mesh(glyphs, scalars="activity", cmap="viridis", nan_color="#d0d0d0",
                               nan_opacity=1.0, show_scalar_bar=True,
                               scalar_bar_args={"title": "activity"})
        self._plotter.camera_position = "xz"
        self._plotter.camera.elevation = 20  # a little from above: depth reads better
        self._plotter.reset_camera()
        self._plotter.camera.zoom(2.0)  # the worm is long and thin: fill the width

    @staticmethod
    def _values(positions: pd.DataFrame) -> np.ndarray:
        return np.where(positions["recorded"], positions["activity"], UNRECORDED_VALUE)

    def recolour(self, positions: pd.DataFrame, force: bool = False) -> bool:
        """New activity colours; synced to the browser at most once per SYNC_INTERVAL_S."""
        if self._mesh is None:
            return False
        now = clock.monotonic()
        if not force and now - self._last_sync < SYNC_INTERVAL_S:
            return False
        self._mesh.point_data["activity"] = self._per_vertex(self._values(positions))
        self._last_sync = now
        self.pane.synchronize()
        return True


def side_view(positions: pd.DataFrame, title: str, height: int = 300) -> hv.Points:
    """Neurons projected on the body axis (y) and the dorsoventral axis (z), tappable."""
    table = positions.reset_index().rename(columns={"index": "neuron"})
    table["activity"] = np.where(table["recorded"], table["activity"], np.nan)
    table["size"] = np.where(table["recorded"], 9, 4)
    return hv.Points(table, kdims=["y", "z"], vdims=["activity", "neuron", "size", "recorded"]).opts(
        color="activity", cmap="viridis", size="size", nonselection_alpha=0.9, colorbar=True,
        responsive=True, height=height, tools=["tap", "hover"], xlabel="anterior → posterior",
        ylabel="ventral → dorsal", title=title, clipping_colors={"NaN": "#cccccc"},
        line_color="#555555", line_width=0.3)
