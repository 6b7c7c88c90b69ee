"""The 3-D view: a pyvista scene shown through Panel's VTK pane (vtk.js in the page).

For each run (the model, and the compared model beside it, shifted along x) the scene holds
the live isosurface coloured by its distance to the ground truth, the ground truth as a
translucent overlay, kernel centres as small spheres and a slice plane through the field. Each
update replaces the geometry of the existing datasets (``copy_from``), copies the browser's
camera into the server's camera and synchronises once, so the view stays where the user left
it. The pane is made once and only hidden or shown afterwards: taking a VTK pane out of a page
makes Panel 1.9.4's vtk.js view throw (``reading 'getInteractor'``) and leaves its canvas behind.
So the radiance task draws in the same plotter (``views.fields.radiance_scene``): the view
shows one task's actors at a time, framed afresh when the task changes.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import pyvista as pv

pv.OFF_SCREEN = True

MAX_GLYPHS = 512
RADIANCE_ZOOM = 1.6   # ResetCamera fits the box round every camera's sphere; the cameras' sphere is enough
SHIFT = np.array([2.4, 0.0, 0.0], np.float32)   # where the compared model's scene sits
CAMERA_SKIP = {"mtime", "projectionMatrix", "viewMatrix", "physicalTranslation", "physicalScale",
               "physicalViewUp", "physicalViewNorth", "remoteId"}


def polydata(vertices: np.ndarray, faces: np.ndarray, shift=0.0) -> pv.PolyData:
    if len(faces) == 0:
        return pv.PolyData(np.zeros((1, 3), np.float32) + shift)
    cells = np.hstack([np.full((len(faces), 1), 3), faces]).astype(np.int64).ravel()
    return pv.PolyData(np.asarray(vertices, np.float32) + shift, cells)


def slice_grid(values: np.ndarray, z: float, shift=0.0) -> pv.StructuredGrid:
    """The plane z = ``z`` over [-1, 1]^2 with the field's values (rows y, columns x)."""
    axis = np.linspace(-1, 1, values.shape[0])
    x, y = np.meshgrid(axis, axis, indexing="ij")
    grid = pv.StructuredGrid(x[..., None] + float(np.asarray(shift).ravel()[0]), y[..., None],
                             np.full_like(x, z)[..., None])
    grid.point_data["SDF"] = values.astype(np.float32).ravel()  # x fastest, as the points are
    return grid


def _empty_surface():
    """A tiny invisible triangle, so every actor exists from the start."""
    return np.zeros((3, 3), np.float32) + np.eye(3, dtype=np.float32) * 1e-4, np.array([[0, 1, 2]])


def _glyphs(kernels: dict | None, shift) -> pv.PolyData:
    if not kernels or len(kernels["centres"]) == 0:
        return pv.PolyData(np.zeros((1, 3), np.float32) + shift)
    order = np.argsort(-kernels["weight_norms"])[:MAX_GLYPHS]
    centres = pv.PolyData(np.asarray(kernels["centres"][order], np.float32) + shift)
    sphere = pv.Sphere(radius=0.012, theta_resolution=6, phi_resolution=6)
    return centres.glyph(geom=sphere, scale=False, orient=False)


class RunScene:
    """One run's actors in the plotter: surface, ground truth, kernels, slice."""

    def __init__(self, plotter: pv.Plotter, shift, scalar_bar: bool):
        self.shift = shift
        self.surface = polydata(*_empty_surface(), shift)
        self.surface.point_data["distance to truth"] = np.zeros(self.surface.n_points, np.float32)
        self.truth = polydata(*_empty_surface(), shift)
        self.kernels = pv.PolyData(np.zeros((1, 3), np.float32) + shift)
        self.slice = slice_grid(np.zeros((2, 2)), 0.0, shift)
        self.actors = {
            "surface": plotter.add_mesh(self.surface, scalars="distance to truth", cmap="viridis", clim=(0.0, 0.05),
                                        show_scalar_bar=scalar_bar,
                                        scalar_bar_args={"title": "distance to truth (scene units)"}),
            "truth": plotter.add_mesh(self.truth, color="#9e9e9e", opacity=0.25),
            "kernels": plotter.add_mesh(self.kernels, color="#e65100"),
            "slice": plotter.add_mesh(self.slice, scalars="SDF", cmap="RdBu", clim=(-0.5, 0.5), opacity=0.85,
                                      show_scalar_bar=False),
        }

    def draw(self, shot, truth) -> None:
        if truth is not None:
            self.truth.copy_from(polydata(*truth, self.shift))
        if shot is None:
            self.surface.copy_from(polydata(*_empty_surface(), self.shift))
            self.surface.point_data["distance to truth"] = np.zeros(self.surface.n_points, np.float32)
            return
        surface = polydata(shot.vertices, shot.faces, self.shift)
        surface.point_data["distance to truth"] = (shot.distance if len(shot.faces)
                                                   else np.zeros(surface.n_points, np.float32))
        self.surface.copy_from(surface)
        self.kernels.copy_from(_glyphs(shot.kernels, self.shift))
        if shot.slice_values is not None:
            self.slice.copy_from(slice_grid(shot.slice_values, shot.slice_z, self.shift))

    def set_visible(self, shown: bool, parts: dict) -> None:
        for name, actor in self.actors.items():
            actor.SetVisibility(shown and parts.get(name, True))


class ShapeView:
    """A pyvista plotter and the Panel pane that shows it."""

    def __init__(self):
        self.plotter = pv.Plotter(off_screen=True, window_size=(720, 520))
        self.plotter.set_background("white")
        self.runs = [RunScene(self.plotter, 0.0, True), RunScene(self.plotter, SHIFT, False)]
        self.runs[1].set_visible(False, {})
        from views.fields.radiance_scene import RadianceScene   # here: it imports this module
        self.radiance = RadianceScene(self.plotter)
        self.task = "shape"   # whose actors are shown: "shape" or "radiance"
        self.plotter.view_isometric()  # framing the model's scene only
        # no orientation widget: its vtk.js resize observer throws while the pane is laid out
        self.pane = pn.pane.VTK(self.plotter.ren_win, sizing_mode="stretch_width", height=520,
                               css_classes=["fields-3d"])
        self.show_truth = pn.widgets.Checkbox(label="Show ground truth (translucent)", value=True)
        self.show_kernels = pn.widgets.Checkbox(label="Show kernel centres", value=True)
        self.show_slice = pn.widgets.Checkbox(label="Show SDF slice", value=True)
        self.caption = pn.pane.Markdown("", css_classes=["fields-3d-caption"], margin=(0, 10))
        self.controls = pn.Row(self.show_truth, self.show_kernels, self.show_slice)
        for box in (self.show_truth, self.show_kernels, self.show_slice):
            box.param.watch(lambda _e: self._apply_visibility(sync=True), "value")
        self._compared = False
        self._framed_at = None   # the browser's camera when the view was last framed by the server
        self._truth = None

    def set_truth(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        self._truth = (vertices, faces)
        for run in self.runs:
            run.draw(None, self._truth)

    def draw(self, shots: list, caption: str = "") -> None:
        """Each run's snapshot (None: not trained yet); a second run is drawn beside the first."""
        compared = len(shots) > 1
        for index, run in enumerate(self.runs):
            run.draw(shots[index] if index < len(shots) else None, None)
        reframe = compared != self._compared or self.task != "shape"
        self._compared, self.task = compared, "shape"
        self._show(caption, reframe)   # reframed: one scene or both, not where the user had turned it

    def draw_radiance(self, frustums, novel, box, surface, caption: str = "") -> None:
        """The radiance task: training cameras, the novel camera, the box and the density surface
        (``RadianceScene.draw``)."""
        self.radiance.draw(frustums, novel, box, surface)
        reframe, self.task = self.task != "radiance", "radiance"
        self._show(caption, reframe)

    def _show(self, caption: str, reframe: bool) -> None:
        self.caption.object = caption
        self.controls.visible = self.task == "shape"
        self._apply_visibility(sync=False)
        if reframe:
            self._frame(zoom=1.0 if self.task == "shape" else RADIANCE_ZOOM)
        self.synchronize()

    def _frame(self, zoom: float) -> None:
        """Frame the visible actors, in the server's camera and the browser's: after each sync the
        page sets its camera from the pane's ``camera`` (the last one it reported), not the scene's."""
        self.plotter.reset_camera()
        camera = self.plotter.camera
        camera.zoom(zoom)
        self.pane.camera = self._framed_at = {
            "position": list(camera.position), "focalPoint": list(camera.focal_point),
            "viewUp": list(camera.up), "viewAngle": camera.view_angle, "clippingRange": list(camera.clipping_range)}

    def _apply_visibility(self, sync: bool) -> None:
        parts = {"truth": self.show_truth.value, "kernels": self.show_kernels.value, "slice": self.show_slice.value}
        shape = self.task == "shape"
        for index, run in enumerate(self.runs):
            run.set_visible(shape and (index == 0 or self._compared), parts)
        self.radiance.set_visible(not shape)
        if sync:
            self.synchronize()

    def synchronize(self) -> None:
        """Send the scene to the browser, keeping the camera where the user put it: the browser's
        camera once it has reported one since the view was last framed (before, its report is stale)."""
        camera = self.pane.camera
        if camera and camera is not self._framed_at:
            vtk_camera = self.plotter.renderer.GetActiveCamera()
            for key, value in camera.items():
                setter = getattr(vtk_camera, "Set" + key[0].upper() + key[1:], None)
                if key in CAMERA_SKIP or setter is None:
                    continue
                try:
                    setter(*value) if isinstance(value, list) else setter(value)
                except TypeError:
                    continue  # a browser-only camera property the server's camera lacks
        self.pane.synchronize()
