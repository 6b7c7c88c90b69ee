"""Communities at the neurons' anatomical positions, in 3D through pyvista and Panel's VTK pane.

The whole nervous system is drawn as small grey points for context and the analysed neurons
as spheres coloured by community. A fresh plotter is made for every component shown (a few
hundred points, so a sync is cheap) instead of writing into arrays that are already synced.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import pyvista as pv

from views.connectome.plots import community_colour

pv.OFF_SCREEN = True
CONTEXT_COLOUR = "#c8c8c8"


STRETCH = 3.0   # lateral and dorsoventral axes are stretched: the worm is ~15x longer than wide


def _points(table) -> np.ndarray:
    # The atlas's long axis is y; put it along x of the scene so the worm lies across the view.
    xyz = table[["y", "x", "z"]].to_numpy(dtype=float) * np.array([1.0, STRETCH, STRETCH])
    return np.ascontiguousarray(xyz)


def _spheres(points: np.ndarray, radius: float) -> pv.PolyData:
    """Real spheres (vtk.js in the browser draws points as squares)."""
    return pv.PolyData(points).glyph(geom=pv.Sphere(radius=radius, theta_resolution=8, phi_resolution=8),
                                     scale=False, orient=False)


def community_scene(all_positions, positions, labels) -> pv.Plotter:
    plotter = pv.Plotter(off_screen=True, window_size=(800, 360))
    plotter.set_background("white")
    context = all_positions.dropna()
    if len(context):
        plotter.add_mesh(_spheres(_points(context), 0.04), color=CONTEXT_COLOUR)
    placed = positions.notna().all(axis=1).to_numpy()
    labels = np.asarray(labels)[placed]
    for community in np.unique(labels):
        cloud = _spheres(_points(positions[placed][labels == community]), 0.1)
        plotter.add_mesh(cloud, color=community_colour(community))
    plotter.view_xz()
    plotter.camera.Dolly(1.9)  # the worm (long and thin) across the view (vtk.js ignores a zoom)
    plotter.reset_camera_clipping_range()
    return plotter


class CommunityScene:
    """A VTK pane that shows one component's communities at a time."""

    def __init__(self, height: int = 380):
        self._height = height
        self._vtk = None          # made with the first scene, when its tab is first shown
        self.pane = pn.Column(pn.pane.Markdown("No communities yet."), sizing_mode="stretch_width",
                              css_classes=["community-scene"])
        self._plotter: pv.Plotter | None = None

    def show(self, all_positions, positions, labels) -> None:
        old = self._plotter
        self._plotter = community_scene(all_positions, positions, labels)
        if self._vtk is None:
            self._vtk = pn.pane.VTK(self._plotter.ren_win, height=self._height, sizing_mode="stretch_width",
                                    orientation_widget=False)
            self.pane[:] = [self._vtk]
        else:
            self._vtk.object = self._plotter.ren_win
        if old is not None:
            old.close()
