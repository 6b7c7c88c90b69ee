"""The radiance task's actors in the room's 3-D view: the training cameras as frustums, the novel
view's camera, the scene box and the density isosurface (extracted on demand).

They live in the same plotter as the shape task's actors (``views.fields.shape_view``): one VTK
pane per room, only hidden or shown. Every edit replaces a dataset's geometry (``copy_from``);
the caller synchronises, on the session's loop.
"""
from __future__ import annotations

import numpy as np
import pyvista as pv

from views.fields.shape_view import _empty_surface, polydata

# a frustum's 5 points: the centre (0), then the image corners (1-4): 4 edges to the centre, 4 round the image
FRUSTUM_EDGES = np.array([[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [4, 1]])


def frustum_lines(frustums: np.ndarray | None) -> pv.PolyData:
    """(N, 5, 3) pyramids (``FieldsRoom.frustums``) as one set of line segments."""
    if frustums is None or len(frustums) == 0:
        return pv.PolyData(np.zeros((1, 3), np.float32))
    frustums = np.asarray(frustums, np.float32).reshape(-1, 5, 3)
    offsets = 5 * np.arange(len(frustums))[:, None, None]
    edges = (FRUSTUM_EDGES[None] + offsets).reshape(-1, 2)
    lines = np.hstack([np.full((len(edges), 1), 2), edges]).astype(np.int64).ravel()
    return pv.PolyData(frustums.reshape(-1, 3), lines=lines)


def box_lines(centre, half_size) -> pv.PolyData:
    """The scene box's 12 edges."""
    low, high = np.asarray(centre, float) - half_size, np.asarray(centre, float) + half_size
    return pv.Box(bounds=(low[0], high[0], low[1], high[1], low[2], high[2])).extract_all_edges()


class RadianceScene:
    """Cameras, the novel camera, the box and the density surface: their actors in ``plotter``."""

    def __init__(self, plotter: pv.Plotter):
        self.cameras, self.novel = frustum_lines(None), frustum_lines(None)
        self.box = pv.PolyData(np.zeros((1, 3), np.float32))
        self.surface = polydata(*_empty_surface())
        self.actors = {
            "cameras": plotter.add_mesh(self.cameras, color="#546e7a", line_width=1.5),
            "novel": plotter.add_mesh(self.novel, color="#ef6c00", line_width=3),
            "box": plotter.add_mesh(self.box, color="#bdbdbd", line_width=1),
            "surface": plotter.add_mesh(self.surface, color="#5e35b1", smooth_shading=True, specular=0.3),
        }
        self.set_visible(False)

    def draw(self, frustums: np.ndarray | None, novel: np.ndarray | None, box: tuple | None,
             surface: tuple | None) -> None:
        """``frustums`` (N, 5, 3), ``novel`` (5, 3), ``box`` (centre, half size) and ``surface``
        (vertices, faces) or None (not extracted: an invisible triangle)."""
        self.cameras.copy_from(frustum_lines(frustums))
        self.novel.copy_from(frustum_lines(None if novel is None else np.asarray(novel)[None]))
        if box is not None:
            self.box.copy_from(box_lines(*box))
        self.surface.copy_from(polydata(*(surface if surface is not None else _empty_surface())))

    def set_visible(self, shown: bool) -> None:
        for actor in self.actors.values():
            actor.SetVisibility(shown)
