"""The trame side of views/anatomy3d.py: the pyvista scene, the vtk.js local view and the
HTML overlays (hover name, the picked neuron's name at the point, the colour bar's label).

Coordinates: the atlas's body axis (y, head negative) runs left to right on screen, its
dorsoventral axis (z) upwards and left-right (x) into the screen; the camera is orthographic
and framed so that the whole worm fills the width (vtk.js would fit the bounding sphere, which
leaves a long thin worm small in a wide view).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pyvista as pv

from views.anatomy3d import ASPECT, RADIUS

pv.OFF_SCREEN = True
GREY = "#c8c8c8"
WORM_WIDTH = 0.86   # share of the view's width the worm's length takes
MARK_COLOUR = "#e6550d"
# Inline styles: Vue drops <style> elements from templates.
LABEL = ("position:absolute;pointer-events:none;background:rgba(255,255,255,0.92);border:1px solid #999;"
         "border-radius:3px;padding:1px 5px;white-space:nowrap;font:13px system-ui,sans-serif;")
PICKED = LABEL + "border-color:#e6550d;font-weight:600;transform:translate(-50%,-6px);"
NOTE = "position:absolute;left:6px;pointer-events:none;color:#444;font:12px system-ui,sans-serif;"
# Picking and hovering happen in the browser, in screen space: each neuron's centre is projected
# with the view's current camera and the one nearest the pointer (within REACH_PX, the nearest to
# the camera among ties) is named at once; a click then tells the server which neuron it was.
# (vtk.js's own picking renders the scene again in several passes for every pick: over a second
# with software WebGL.)
PICK_JS = """
(() => {
  const REACH_PX = 9;
  const sub = (a, b) => a.map((v, i) => v - b[i]);
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const unit = (a) => { const n = Math.hypot(...a) || 1; return a.map((v) => v / n) };
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  function nearest(view, x, y) {
    const ref = Object.values(window.trame.refs)[0];
    const points = window.trame.state.get("neuron_points") || [];
    if (!ref || !points.length) return null;
    const cam = ref.getCamera(), box = view.getBoundingClientRect(), w = box.width, h = box.height;
    const d = unit(sub(cam.focalPoint, cam.position));
    const up = unit(sub(cam.viewUp, d.map((v) => v * dot(cam.viewUp, d))));
    const right = cross(d, up);
    const half = cam.parallelProjection ? cam.parallelScale : 0;
    let best = null;
    for (const [name, ...rest] of points) {
      const p = rest.slice(0, 3), rel = sub(p, cam.focalPoint), depth = dot(sub(p, cam.position), d);
      const scale = (h / 2) / (half || depth * Math.tan(cam.viewAngle * Math.PI / 360));
      const sx = w / 2 + dot(rel, right) * scale, sy = h / 2 - dot(rel, up) * scale;
      const gap = Math.hypot(sx - x, sy - y);
      if (gap <= REACH_PX && (!best || gap < best.gap - 2 || (Math.abs(gap - best.gap) <= 2 && depth < best.depth)))
        best = { name, text: rest[3], gap, depth, style: { left: `${sx}px`, bottom: `${h - sy}px` } };
    }
    return best;
  }
  let down = null;
  const inside = (event) => event.target.closest && event.target.closest(".lab-scene");
  const at = (event, view) => { const b = view.getBoundingClientRect(); return [event.clientX - b.left, event.clientY - b.top] };
  document.addEventListener("pointermove", (event) => {
    const view = inside(event);
    if (!view || event.buttons) return;
    const hit = nearest(view, ...at(event, view));
    window.trame.state.set("hover", hit ? { text: hit.text, style: { left: `${at(event, view)[0] + 12}px`,
      top: `${at(event, view)[1] + 14}px` } } : {});
  }, true);
  document.addEventListener("pointerdown", (event) => { down = [event.clientX, event.clientY] }, true);
  document.addEventListener("pointerup", (event) => {
    const view = inside(event);
    if (!view || !down || Math.hypot(event.clientX - down[0], event.clientY - down[1]) > 4) return;
    const hit = nearest(view, ...at(event, view));
    if (!hit) return;
    window.trame.state.set("picked", { name: hit.name, style: hit.style });
    window.trame.trigger(window.trame.state.get("pick_trigger"), [hit.name]);
  }, true);
})();
"""


def scene_points(positions: pd.DataFrame) -> np.ndarray:
    """Atlas (x, y, z) -> scene (body axis, dorsal up, left-right into the screen)."""
    return positions[["y", "z", "x"]].to_numpy(dtype=np.float32)


class SceneApp:
    """The trame UI and pyvista scene of one NeuronScene3D."""

    def __init__(self, server, height: int, cmap: str, clicked: Callable, loaded: Callable):
        from trame.ui.html import DivLayout
        from trame.widgets import client, html
        from trame.widgets import vtk as vtk_widgets

        self.server = server
        self._cmap = cmap
        self._sphere = pv.Sphere(radius=RADIUS, theta_resolution=10, phi_resolution=10)
        self._mark_sphere = pv.Sphere(radius=1.7 * RADIUS, theta_resolution=10, phi_resolution=10)
        self.plotter = pv.Plotter(off_screen=True, window_size=(int(height * ASPECT), height))
        self.plotter.background_color = "white"
        self._mesh = None
        self._points = np.zeros((0, 3), dtype=np.float32)
        server.state.update(neuron_points=[], pick_trigger=server.trigger_name(clicked), hover={},
                            picked={}, focus_text="", bar_label="")
        with DivLayout(server) as layout:
            layout.root.style = "position:absolute;inset:0;margin:0;overflow:hidden;"
            client.Script(PICK_JS)
            self.view = vtk_widgets.VtkLocalView(self.plotter.ren_win, after_scene_loaded=loaded,
                                                 classes="lab-scene", style="position:absolute;inset:0;")
            html.Div("{{ hover.text }}", v_show="hover.text", classes="hover-label",
                     style=("hover.style",), raw_attrs=[f'style="{LABEL}"'])
            html.Div("{{ picked.name }}", v_show="picked.name", classes="picked-label",
                     style=("picked.style",), raw_attrs=[f'style="{PICKED}"'])
            html.Div("{{ focus_text ? 'focus: ' + focus_text : '' }}", classes="focus-label",
                     raw_attrs=[f'style="{NOTE}top:4px;font-weight:600"'])
            html.Div("head (anterior) ← → tail · dorsal ↑ · colour: {{ bar_label }} · drag to turn, "
                     "scroll to zoom, click a neuron to pick it", classes="scene-note",
                     raw_attrs=[f'style="{NOTE}bottom:4px"'])
        self.layout = layout

    # ---- the scene -------------------------------------------------------------------------
    def draw(self, positions: pd.DataFrame, values: pd.Series, label: str, clim) -> None:
        self._points = scene_points(positions)
        glyphs = pv.PolyData(self._points).glyph(geom=self._sphere, scale=False, orient=False)
        glyphs.point_data["value"] = self._per_vertex(values.to_numpy())
        self.plotter.clear()
        self._mesh = glyphs
        self.plotter.add_mesh(glyphs, scalars="value", cmap=self._cmap, clim=clim, nan_color=GREY,
                              show_scalar_bar=True, scalar_bar_args={"title": "", "n_labels": 3,
                                                                     "vertical": True})
        self.server.state.bar_label = label
        self._frame_camera()

    def label_neurons(self, names, texts) -> None:
        """What the browser names at each sphere (scene coordinates, hover text)."""
        self.server.state.neuron_points = [[name, *map(lambda v: round(float(v), 4), xyz), text]
                                           for name, xyz, text in zip(names, self._points, texts)]

    def recolour(self, values: pd.Series, clim) -> None:
        if self._mesh is not None:
            self._mesh.point_data["value"] = self._per_vertex(values.to_numpy())  # a new array
            self.plotter.update_scalar_bar_range(clim)

    def mark(self, positions: pd.DataFrame) -> None:
        self.plotter.remove_actor("marks")
        if len(positions):
            rings = pv.PolyData(scene_points(positions)).glyph(geom=self._mark_sphere, scale=False,
                                                                orient=False)
            self.plotter.add_mesh(rings, color=MARK_COLOUR, opacity=0.35, name="marks",
                                  pickable=False)

    def _per_vertex(self, values: np.ndarray) -> np.ndarray:
        return np.repeat(values.astype(np.float32), self._sphere.n_points)

    def _frame_camera(self) -> None:
        """Side view, slightly from above, orthographic, the worm's length across the width."""
        if len(self._points) == 0:
            return
        low, high = self._points.min(axis=0), self._points.max(axis=0)
        camera = self.plotter.camera
        length, depth = high[0] - low[0], high[1] - low[1]
        scale = max(length / (2 * ASPECT * WORM_WIDTH), 1.1 * (depth / 2 + RADIUS))
        centre = (low + high) / 2
        centre[0] += scale * ASPECT * (1 - WORM_WIDTH) * 0.8  # leave the colour bar the right edge
        camera.focal_point = tuple(centre)
        camera.position = tuple(centre + np.array([0.0, 0.0, 10.0]))
        camera.up = (0.0, 1.0, 0.0)
        camera.elevation = 20
        camera.parallel_projection = True
        camera.parallel_scale = scale

    # ---- talking to the browser ---------------------------------------------------------------
    def push(self) -> None:
        self.view.update()

    def push_camera(self) -> None:
        self.view.push_camera()


    def close(self) -> None:
        self.view.release_resources()
        self.plotter.close()
