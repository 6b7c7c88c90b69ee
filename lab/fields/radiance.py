"""The radiance part of ``FieldsRoom``: the camera the user moves, the held-out view, flatland's
chosen ray, the density isosurface and the orbit animation.

While training, the next snapshot (within a second) renders from the camera as it is then; when
the room is idle, moving the camera (or choosing another held-out view, flatland ray) renders
the runs again at once, in a thread, latest request only: a slider dragged across its range
costs one render per frame the worker can give, not one per position it passed.
"""
from __future__ import annotations

import threading

import numpy as np

from engines.errors import InvalidInputError

VIEW_SETTINGS = ("azimuth", "elevation", "preview_size", "held_out_view", "flatland_camera", "flatland_pixel")
ORBIT_FRAMES = 36             # one frame every 10 degrees
ORBIT_TYPES = ("gif", "mp4")


class RadianceActions:
    """A mixin of ``FieldsRoom``: it reads the room's state and publishes through it."""

    def _watch_views(self) -> None:
        self._view_wanted = threading.Event()
        self._view_thread: threading.Thread | None = None
        self.param.watch(self._on_view_settings, list(VIEW_SETTINGS))

    def _on_view_settings(self, *_events) -> None:
        if self.background.state == "running" or not self.process.has_runs:
            return  # the next snapshot renders the new view
        self._view_wanted.set()
        if self._view_thread is None or not self._view_thread.is_alive():
            self._view_thread = threading.Thread(target=self._render_views, daemon=True, name="fields-view")
            self._view_thread.start()

    def _render_views(self) -> None:
        while self._view_wanted.is_set():
            self._view_wanted.clear()
            if self.background.state == "running" or not self.process.has_runs:
                return
            self._publish_snapshots(self.process.training.snapshots(self._view()))

    def frustums(self) -> np.ndarray | None:
        """(N, 5, 3): each training camera's centre and image corners (3-D scenes; else None)."""
        if self.kind != "radiance":
            return None
        return self.target.train.frustums(0.15 * self.target.camera_distance())

    def novel_camera(self) -> np.ndarray | None:
        """(5, 3): the novel view's camera as a pyramid, like ``frustums`` (3-D scenes; else None)."""
        if self.kind != "radiance":
            return None
        from engines.fields.radiance import orbit_camera
        fov = self.target.train.cameras[0].vertical_fov_deg
        camera = orbit_camera(self.azimuth, self.elevation, self.target.camera_distance(), self.preview_size,
                              fov, self.target.box.centre)
        return camera.frustum(0.25 * self.target.camera_distance())

    def isosurface(self) -> None:
        """Extract the model's density isosurface at ``full_resolution`` into ``density_surface``."""
        if self.kind != "radiance":
            raise InvalidInputError("the density isosurface is for 3-D radiance scenes")
        training = self._trained("density field")
        self._publish(density_surface=training.density_surface(self.full_resolution))

    def orbit_animation(self, file_type: str = "gif") -> bytes:
        """The model's scene from a camera going once around it at the current elevation."""
        if self.kind != "radiance":
            raise InvalidInputError("an orbit animation is for 3-D radiance scenes")
        if file_type not in ORBIT_TYPES:
            raise InvalidInputError(f"an orbit exports as GIF or MP4, not {file_type!r}")
        return self._trained("scene to film").orbit_bytes(file_type, ORBIT_FRAMES, self.preview_size, self.elevation)
