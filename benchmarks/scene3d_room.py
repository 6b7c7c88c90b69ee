"""For benchmarks.worms_room only: one 3D scene shown through each of the lab's two 3D paths, so
that both are measured on the same scene, the same way, in the browser.

The scene is the worm's 300 neurons as spheres at their atlas positions, coloured by a value
(the worm room's 3D anatomy). The paths:

- "trame": ``views.anatomy3d.NeuronScene3D`` as the worm room uses it (pyvista scene, trame-vtk's
  local view in an iframe, served through the lab's own server, lab/trame_routes.py);
- "VTK pane": the same spheres (same sphere mesh, colour map and window size) in a pyvista
  plotter shown by Panel's VTK pane, as the fields room's shape view and the connectome room's
  community scene show theirs.

Each is built when its tab is first shown. "Recolour" gives the spheres new values on the server
and pushes them (what the worm room does when its time cursor moves); the benchmark clicks it
again as soon as the browser has drawn the new colours. Served only when the benchmark registers it
(NEURAL_LAB_EXTRA_ROOMS=benchmarks.scene3d_room:SCENE_ROOM).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import pyvista as pv

from engines.worms import CANONICAL_NEURONS, positions_on_axis
from lab.rooms import RoomSpec
from views.anatomy3d import ASPECT, RADIUS, NeuronScene3D
from views.anatomy3d_scene import scene_points

HEIGHT = 460          # as the worm room's 3D view
SEED = 0
PATHS = ("trame", "VTK pane")
TABS = ("About", *PATHS)


class VTKPaneScene:
    """The worm room's spheres, through Panel's VTK pane."""

    def __init__(self, positions: pd.DataFrame, values: np.ndarray):
        self._sphere = pv.Sphere(radius=RADIUS, theta_resolution=10, phi_resolution=10)
        self.plotter = pv.Plotter(off_screen=True, window_size=(int(HEIGHT * ASPECT), HEIGHT))
        self.plotter.background_color = "white"
        self.mesh = pv.PolyData(scene_points(positions)).glyph(geom=self._sphere, scale=False, orient=False)
        self.mesh.point_data["value"] = self._per_vertex(values)
        self.plotter.add_mesh(self.mesh, scalars="value", cmap="viridis", clim=(0.0, 1.0))
        self.plotter.view_xy()
        self.pane = pn.pane.VTK(self.plotter.ren_win, height=HEIGHT, sizing_mode="stretch_width",
                                css_classes=["scene-vtk"])

    def recolour(self, values: np.ndarray) -> None:
        self.mesh.point_data["value"] = self._per_vertex(values)   # a new array (see GUIDE)
        self.pane.synchronize()

    def _per_vertex(self, values: np.ndarray) -> np.ndarray:
        return np.repeat(values.astype(np.float32), self._sphere.n_points)


class ScenePaths(pn.viewable.Viewer):
    def __init__(self, **params):
        super().__init__(**params)
        self.positions = positions_on_axis(CANONICAL_NEURONS)
        self._rng = np.random.default_rng(SEED)
        self._scenes: dict[str, object] = {}
        self.tabs = pn.Tabs(("About", pn.pane.Markdown(__doc__)),
                            *[(name, pn.Column(sizing_mode="stretch_width")) for name in PATHS],
                            dynamic=True, sizing_mode="stretch_width")
        self.tabs.param.watch(lambda _event: self._show(), "active")
        self.recolour = pn.widgets.Button(label="Recolour", css_classes=["scene-recolour"], width=120)
        self.recolour.on_click(lambda _event: self._step())
        self._layout = pn.Column(self.recolour, self.tabs, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def _values(self) -> np.ndarray:
        return self._rng.random(len(self.positions))

    def _show(self) -> None:
        name = TABS[self.tabs.active]
        if name not in PATHS or name in self._scenes:
            return
        if name == "trame":
            scene = NeuronScene3D(height=HEIGHT)
            scene.show(self.positions, pd.Series(self._values(), self.positions.index), "value", (0.0, 1.0))
            content = scene
        else:
            scene = VTKPaneScene(self.positions, self._values())
            content = scene.pane
        self._scenes[name] = scene
        self.tabs[self.tabs.active] = (name, content)

    def _step(self) -> None:
        scene = self._scenes.get(TABS[self.tabs.active])
        if isinstance(scene, NeuronScene3D):
            scene.recolour(pd.Series(self._values(), self.positions.index))
        elif scene is not None:
            scene.recolour(self._values())


def build() -> ScenePaths:
    view = ScenePaths()
    pn.state.on_session_destroyed(lambda _context: [s.close() for s in view._scenes.values()
                                                    if isinstance(s, NeuronScene3D)])
    return view


SCENE_ROOM = RoomSpec(slug="scene3d", title="3D paths (benchmark)",
                      summary="One scene through trame and through Panel's VTK pane.",
                      builder="benchmarks.scene3d_room:build", extensions=("vtk",))
