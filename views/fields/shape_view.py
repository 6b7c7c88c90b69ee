"""The 3-D view: a pyvista scene shown through Panel's VTK pane (vtk.js in the page).

The scene holds the live isosurface coloured by its distance to the ground truth, the ground
truth as a translucent overlay, kernel centres as small spheres and a slice plane through the
field. Each update replaces the geometry of the existing datasets (``copy_from``), copies the
browser's camera into the server's camera and synchronises once, so the view stays where the
user left it.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import pyvista as pv

pv.OFF_SCREEN = True

MAX_GLYPHS = 512
CAMERA_SKIP = {"mtime", "projectionMatrix", "viewMatrix", "physicalTranslation", "physicalScale",
               "physicalViewUp", "physicalViewNorth", "remoteId"}


def polydata(vertices: np.ndarray, faces: np.ndarray) -> pv.PolyData:
    if len(faces) == 0:
        return pv.PolyData(np.zeros((1, 3), np.float32))
    cells = np.hstack([np.full((len(faces), 1), 3), faces]).astype(np.int64).ravel()
    return pv.PolyData(np.asarray(vertices, np.float32), cells)


def slice_grid(values: np.ndarray, z: float) -> pv.StructuredGrid:
    """The plane z = ``z`` over [-1, 1]^2 with the field's values (rows y, columns x)."""
    axis = np.linspace(-1, 1, values.shape[0])
    x, y = np.meshgrid(axis, axis, indexing="ij")
    grid = pv.StructuredGrid(x[..., None], y[..., None], np.full_like(x, z)[..., None])
    grid.point_data["SDF"] = values.astype(np.float32).ravel()  # x fastest, as the points are
    return grid


class ShapeView:
    """A pyvista plotter and the Panel pane that shows it."""

    def __init__(self):
        self.plotter = pv.Plotter(off_screen=True, window_size=(720, 520))
        self.plotter.set_background("white")
        self.surface = polydata(*_empty_surface())
        self.surface.point_data["distance to truth"] = np.zeros(self.surface.n_points, np.float32)
        self.truth = polydata(*_empty_surface())
        self.kernels = pv.PolyData(np.zeros((1, 3), np.float32))
        self.slice = slice_grid(np.zeros((2, 2)), 0.0)
        self.surface_actor = self.plotter.add_mesh(
            self.surface, scalars="distance to truth", cmap="viridis", clim=(0.0, 0.05),
            scalar_bar_args={"title": "distance to truth"})
        self.truth_actor = self.plotter.add_mesh(self.truth, color="#9e9e9e", opacity=0.25)
        self.kernel_actor = self.plotter.add_mesh(self.kernels, color="#e65100")
        self.slice_actor = self.plotter.add_mesh(self.slice, scalars="SDF", cmap="RdBu", clim=(-0.5, 0.5),
                                                 opacity=0.85, show_scalar_bar=False)
        self.plotter.view_isometric()
        # no orientation widget: its vtk.js resize observer throws while the pane is laid out
        self.pane = pn.pane.VTK(self.plotter.ren_win, sizing_mode="stretch_width", height=520,
                               css_classes=["fields-3d"])
        self.show_truth = pn.widgets.Checkbox(label="Show ground truth (translucent)", value=True)
        self.show_kernels = pn.widgets.Checkbox(label="Show kernel centres", value=True)
        self.show_slice = pn.widgets.Checkbox(label="Show SDF slice", value=True)
        for box in (self.show_truth, self.show_kernels, self.show_slice):
            box.param.watch(lambda _e: self._apply_visibility(sync=True), "value")
        self._camera_set = False

    def set_truth(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        self.truth.copy_from(polydata(vertices, faces))

    def draw(self, shot) -> None:
        if shot is None:
            return
        surface = polydata(shot.vertices, shot.faces)
        surface.point_data["distance to truth"] = (shot.distance if len(shot.faces)
                                                   else np.zeros(surface.n_points, np.float32))
        self.surface.copy_from(surface)
        self.kernels.copy_from(self._glyphs(shot.kernels))
        if shot.slice_values is not None:
            self.slice.copy_from(slice_grid(shot.slice_values, shot.slice_z))
        self._apply_visibility(sync=False)
        self.synchronize()

    def _glyphs(self, kernels: dict | None) -> pv.PolyData:
        if not kernels or len(kernels["centres"]) == 0:
            return pv.PolyData(np.zeros((1, 3), np.float32))
        order = np.argsort(-kernels["weight_norms"])[:MAX_GLYPHS]
        centres = pv.PolyData(np.asarray(kernels["centres"][order], np.float32))
        sphere = pv.Sphere(radius=0.012, theta_resolution=6, phi_resolution=6)
        return centres.glyph(geom=sphere, scale=False, orient=False)

    def _apply_visibility(self, sync: bool) -> None:
        self.truth_actor.SetVisibility(self.show_truth.value)
        self.kernel_actor.SetVisibility(self.show_kernels.value)
        self.slice_actor.SetVisibility(self.show_slice.value)
        if sync:
            self.synchronize()

    def synchronize(self) -> None:
        """Send the scene to the browser, keeping the camera where the user put it."""
        camera = self.pane.camera
        if camera:
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


def _empty_surface():
    """A tiny invisible triangle, so every actor exists from the start."""
    return np.zeros((3, 3), np.float32) + np.eye(3, dtype=np.float32) * 1e-4, np.array([[0, 1, 2]])
