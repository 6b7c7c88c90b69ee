"""What leaves the fields room and comes back: PNG and mesh exports, checkpoints.

``Exports`` is the part of ``FieldsRoom`` that writes files and reads checkpoints (the room's
state and actions are in ``lab.fields.model``). Each export refuses, with an InvalidInputError
the page shows, what does not fit the task or what is not there yet.
"""
from __future__ import annotations

import io

import numpy as np

from engines.errors import InvalidInputError
from lab.fields import targets
from lab.fields.training import RunPlan
from lab.uploads import check_size

MESH_TYPES = ("ply", "stl")


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W) or (H, W, 3) in [0, 1] as an 8-bit PNG."""
    from PIL import Image
    pixels = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class Exports:
    """Exports and checkpoints of a ``FieldsRoom`` (a mixin: it reads the room's state)."""

    def _trained(self, what: str):
        if not self.process.has_runs or self.snapshot is None:
            raise InvalidInputError(f"there is no {what} yet: press Train or Step first")
        return self.process.training

    def reconstruction_png(self) -> bytes:
        """The model's reconstruction of the image as a PNG."""
        if not self.is_image:
            raise InvalidInputError("PNG export is for the image task; export a mesh for shapes")
        self._trained("reconstruction")
        return png_bytes(self.snapshot.reconstruction)

    def mesh_bytes(self, file_type: str = "ply") -> bytes:
        """The model's surface (a radiance field's density isosurface) at ``full_resolution`` as PLY or STL."""
        if self.kind not in ("shape", "radiance"):
            raise InvalidInputError("mesh export is for the shape task and 3-D radiance scenes; export a PNG for images")
        if file_type not in MESH_TYPES:
            raise InvalidInputError(f"meshes export as PLY or STL, not {file_type!r}")
        return self._trained("surface").mesh_bytes(self.full_resolution, file_type)

    def checkpoint_bytes(self) -> bytes:
        """The model's run (field, optimiser, step count, config and target) as a checkpoint."""
        return self._trained("run to save").checkpoint_bytes()

    def load_checkpoint(self, data: bytes, filename: str = "checkpoint") -> None:
        """Continue from a checkpoint: its target, task, model, knobs and step count replace the
        current ones. Raises InvalidInputError for a bad file; nothing has changed then."""
        check_size([("the checkpoint", data)])
        config, learning_rate, batch_size, target = self.process.training.stage_checkpoint(data, self.device)
        task = targets.task_of(target)
        name = str(getattr(target, "name", "") or "")
        bundled = task in ("shape", "radiance") and name in targets.bundled_sources(task)
        if task == "flatland":
            self._set_quietly(task="flatland")
            self.set_target(target, "flatland")
        else:
            self.add_source(task, name if bundled else filename, target)
        knob_values = {k: v for k, v in config.knobs.items() if k in self.param}
        self._set_quietly(model=config.model, seed=config.seed, compare_model="none", same_budget=False,
                          learning_rate=learning_rate, batch_size=batch_size, **knob_values)
        self._follow_knobs(changed={"model", "learning_rate", "batch_size", *knob_values})
        shots = self.process.training.adopt_checkpoint(self._view())
        self.process.adopted(RunPlan(config, learning_rate, batch_size), self.device, target)
        self._publish_snapshots(shots, generation=self.generation + 1)
