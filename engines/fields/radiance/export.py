"""Exports of a trained radiance field: an orbit around the scene as an animation.

``orbit_frames`` renders views on a circle of azimuths; ``export_animation`` writes them as an
animated GIF (imageio's Pillow plugin, always available) or as MP4 when the optional
imageio-ffmpeg package is installed (``pip install neural-lab[video]``), atomically.
"""
from __future__ import annotations

import importlib.util
import io
import os

import numpy as np

from ...errors import InvalidInputError
from ...files import atomic_write_bytes

FORMATS = ("gif", "mp4")


def mp4_available() -> bool:
    """Whether MP4 export can work here (imageio-ffmpeg installed)."""
    return importlib.util.find_spec("imageio_ffmpeg") is not None


def orbit_frames(trainer, n_frames: int = 36, size: int = 100, elevation: float = 20.0) -> np.ndarray:
    """(n_frames, size, size, 3) uint8 views of a 3-D trainer's scene at azimuths 0..360."""
    if not 2 <= n_frames <= 720:
        raise InvalidInputError("an orbit has 2..720 frames")
    frames = [trainer.render_view(azimuth=360.0 * i / n_frames, elevation=elevation, size=size)["rgb"]
              for i in range(n_frames)]
    return (np.clip(np.stack(frames), 0, 1) * 255).round().astype(np.uint8)


def animation_bytes(frames: np.ndarray, file_type: str = "gif", fps: float = 12.0) -> bytes:
    """Frames (N, H, W, 3) uint8 as an animated GIF (looping) or an MP4."""
    file_type = file_type.lower().lstrip(".")
    if file_type not in FORMATS:
        raise InvalidInputError(f"an orbit exports as {' or '.join(FORMATS)}, not {file_type!r}")
    import imageio.v3 as iio
    buf = io.BytesIO()
    if file_type == "gif":
        iio.imwrite(buf, frames, extension=".gif", duration=1000.0 / fps, loop=0)
    else:
        if not mp4_available():
            raise InvalidInputError("MP4 export needs the imageio-ffmpeg package "
                                    "(pip install neural-lab[video]); GIF works without it")
        _write_mp4(buf, frames, fps)
    return buf.getvalue()


def _write_mp4(buf: io.BytesIO, frames: np.ndarray, fps: float) -> None:
    """H.264 in yuv420p (plays everywhere), through a temporary file: ffmpeg writes files."""
    import tempfile
    import imageio.v2 as imageio
    # H.264 in yuv420p needs even sizes
    frames = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "orbit.mp4")
        with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                pixelformat="yuv420p", macro_block_size=2) as writer:
            for frame in frames:
                writer.append_data(frame)
        with open(path, "rb") as f:
            buf.write(f.read())


def export_animation(frames: np.ndarray, path: str | os.PathLike, fps: float = 12.0) -> None:
    """Write frames to ``path`` (.gif or .mp4, by its extension), atomically."""
    atomic_write_bytes(path, animation_bytes(frames, os.path.splitext(str(path))[1], fps))
