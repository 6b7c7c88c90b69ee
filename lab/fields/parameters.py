"""The fields room's parameters: what a user sets, what the room publishes, and how a model's
knobs follow its declaration.

Every knob any field family takes is a parameter here, derived from the declarations
(``lab.fields.knobs``), so adding a family adds nothing to this file. Choosing a model (or a
task) sets its knobs to their declared, tuned defaults; the knobs the user then changes are
named in ``knobs`` ("n_kernels:256"), the one text the page's URL keeps for them.
"""
from __future__ import annotations

import param
import torch

from lab.fields import knobs as declared
from lab.fields import targets
from lab.fields.plans import Settings
from lab.fields.radiance_run import OUT_DIM, is_scene
from lab.room import RoomModel

# "cuda" is offered only where torch sees a GPU; "auto" takes it there and is the CPU elsewhere
DEVICES = ["cpu", "auto"] + (["cuda"] if torch.cuda.is_available() else [])

FieldKnobs = param.parameterized_class("FieldKnobs", declared.knob_parameters(), bases=RoomModel)


class FieldsParameters(FieldKnobs):
    """The room's settings and results; ``FieldsRoom`` adds the actions."""

    task = param.Selector(default="image", objects=["image", "shape", "radiance", "flatland"],
                          doc="Fit an image (2-D field of colours), a shape (3-D signed distance), a radiance "
                              "field (density and colour, learnt from posed views by volume rendering) or "
                              "flatland (radiance in 2-D, seen by 1-D cameras: every ray can be drawn).")
    image_source = param.Selector(default="astronaut", objects=targets.image_sources(), label="Image",
                                  doc="A bundled image from scikit-image, or one you uploaded.")
    image_size = param.Integer(default=256, bounds=(16, 512), label="Image size (pixels, long side)",
                               doc="The image is resized to this many pixels on its long side before training.")
    shape_source = param.Selector(default="torus", objects=targets.shape_sources(), label="Shape",
                                  doc="An analytic shape (exact SDF), a trimesh shape, a pyvista mesh, or one "
                                      "you uploaded.")
    scene_source = param.Selector(default=targets.BLOBS, objects=targets.scene_sources(), label="Scene",
                                  doc="The analytic blobs (their density is known: the learned field is scored too), "
                                      "a pyvista mesh rendered from cameras on a sphere (once, then cached), or "
                                      "views you uploaded.")
    scene_size = param.Integer(default=48, bounds=(16, 400), label="View size (pixels)",
                               doc="Rendered views have this many pixels per side (uploads: on the long side).")
    scene_views = param.Integer(default=40, bounds=(4, 400), label="Training views",
                                doc="Cameras on a sphere whose views train the field (more, between them, are held out).")
    azimuth = param.Number(default=30.0, bounds=(-180.0, 180.0), step=5.0, label="Camera azimuth (degrees)",
                           doc="The novel view's camera, around the vertical axis.")
    elevation = param.Number(default=20.0, bounds=(-85.0, 85.0), step=5.0, label="Camera elevation (degrees)",
                             doc="The novel view's camera, above (+) or below (-) the horizon.")
    preview_size = param.Integer(default=64, bounds=(32, 200), label="Novel view size (pixels)",
                                 doc="The live novel view is rendered at this size (larger: slower refresh).")
    held_out_view = param.Integer(default=0, bounds=(0, 19), label="Held-out view (index)",
                                  doc="Which held-out camera's view is shown beside its ground truth.")
    flatland_camera = param.Integer(default=0, bounds=(0, 23), label="Camera (index)",
                                    doc="Flatland: the camera whose ray is drawn.")
    flatland_pixel = param.Integer(default=64, bounds=(0, 127), label="Ray (pixel index)",
                                   doc="Flatland: which of the camera's pixels (rays) is drawn.")
    model = param.Selector(default=declared.DEFAULT_MODEL, objects=declared.model_choices(),
                           doc="GNF and NeuRBF are RBF fields; the others are baselines.")
    knobs = param.String(default="", doc="The model's knobs changed from its declared defaults, as "
                                         "name:value pairs (kept in the page's URL).")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), label="Seed",
                         doc="Seeds initialisation and batch sampling.")
    steps = param.Integer(default=1000, bounds=(1, 1_000_000), label="Steps per Train (steps)",
                          doc="Optimiser steps each press of Train runs.")
    device = param.Selector(default="cpu", objects=DEVICES,
                            doc="Where the fields train: the CPU (fastest for small fields, reproducible), "
                                "'auto' (the GPU when there is one) or 'cuda'. Applies at the next Train or Reset.")
    compare_model = param.Selector(default="none", objects={"(no comparison)": "none", **declared.model_choices()},
                                   label="Compare with", doc="Train a second model on the same target, side by "
                                   "side, with its own declared defaults and tuned learning rate.")
    compare_pace = param.Selector(default="steps", objects={"equal steps": "steps", "equal training time": "time"},
                                  label="Compare at", doc="Give both models the same number of steps, or the "
                                  "same wall-clock training time (the faster one then takes more steps).")
    same_budget = param.Boolean(default=False, label="Same parameter budget",
                                doc="Size each model (its size knob) to the largest that fits the budget.")
    parameter_budget = param.Integer(default=200_000, bounds=(1_000, declared.MAX_PARAMETERS),
                                     label="Parameter budget (parameters)", doc="Parameters each model may have.")
    preview_resolution = param.Integer(default=48, bounds=(16, 96), label="Live mesh grid (points per side)",
                                       doc="Grid for the live isosurface; the full mesh is computed on demand.")
    full_resolution = param.Integer(default=128, bounds=(32, 256), label="Full mesh grid (points per side)",
                                    doc="Grid for the on-demand isosurface and mesh exports.")
    slice_z = param.Number(default=0.0, bounds=(-1.0, 1.0), step=0.05, label="Slice height z (scene units)",
                           doc="Height of the plane showing the signed distance; the shape fills [-1, 1]^3.")

    # results (read-only)
    target_name = param.String(default="", constant=True, doc="What is being learnt.")
    planned = param.List(default=[], constant=True, doc="The runs Train builds: lab.fields.plans.Planned.")
    snapshot = param.Parameter(default=None, constant=True, doc="Latest ImageSnapshot or ShapeSnapshot.")
    rival_snapshot = param.Parameter(default=None, constant=True, doc="The compared model's snapshot.")
    generation = param.Integer(default=0, constant=True, doc="Increases at every reset: curves restart.")
    notice = param.String(default="", constant=True, doc="Latest information for the user (e.g. a downscale).")
    density_surface = param.Parameter(default=None, constant=True,
                                      doc="(vertices, faces) of the model's density isosurface (radiance), or None.")

    url_parameters = ("task", "image_source", "image_size", "shape_source", "scene_source", "model", "knobs", "seed", "steps",
                      "compare_model", "compare_pace", "same_budget", "parameter_budget", "device")

    def __init__(self, **params):
        super().__init__(**params)
        self._quiet = False  # set while parameters follow an upload, a checkpoint or a model's defaults
        self._follow_knobs(changed=set(params), force=True)
        # every setting counts, also one to the value it had: update(model="neurbf", n_kernels=64)
        # keeps n_kernels=64 even when GNF had 64 too, instead of taking NeuRBF's default
        self.param.watch(self._on_knob_settings, ["model", "task", "knobs", *declared.KNOB_NAMES], onlychanged=False)

    def _on_knob_settings(self, *events) -> None:
        if not self._quiet:
            self._follow_knobs(changed={e.name for e in events})

    def _follow_knobs(self, changed: set = frozenset(), force: bool = False) -> None:
        """A new model or task takes its declared defaults, with the knobs the ``knobs`` text (the
        URL) or the same update set on top; then ``knobs`` names what differs from the defaults."""
        values = {n: getattr(self, n) for n in declared.taken(self.model, self.task)}
        if force or changed & {"model", "task", "knobs"}:
            text = self.knobs if force or "knobs" in changed else ""  # a new model alone: its defaults
            given, problems = declared.decode(text, self.model, self.task)
            if problems:
                self._publish(notice="Some knob settings were not used: " + "; ".join(problems))
            explicit = {n: values[n] for n in changed if n in values}
            values = {**declared.taken(self.model, self.task), **given, **explicit}
        self._set_quietly(**values, knobs=declared.encode(values, self.model, self.task))

    def applies(self, name: str) -> bool:
        """Whether the chosen model takes knob ``name`` for the chosen task."""
        return declared.applies(name, self.model, self.task)

    def _dims(self) -> tuple[int, int]:
        """(input, output) dimensions of the fields the target needs."""
        if is_scene(self.target):
            return self.target.dim, OUT_DIM
        channels = getattr(self.target, "channels", None)  # an ImageTarget's; an SdfTarget has one value
        return (2, channels) if channels else (3, 1)

    def settings(self) -> Settings:
        """What decides the runs Train builds (``lab.fields.plans.plan_runs``)."""
        values = tuple((n, getattr(self, n)) for n in declared.taken(self.model, self.task))
        return Settings(self.task, self.model, values, self.compare_model, self.seed, *self._dims(),
                        self.parameter_budget if self.same_budget else None)

    def _set_quietly(self, **values) -> None:
        """Update parameters (and their widgets) without reloading a target or following the model's defaults."""
        quiet, self._quiet = self._quiet, True
        try:
            self.param.update(**values)
        finally:
            self._quiet = quiet
