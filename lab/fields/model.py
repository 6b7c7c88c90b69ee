"""FieldsRoom: the neural fields room's state and actions, with no UI code.

A user picks a task (image, shape, radiance or flatland), a target (bundled or uploaded), a
model and its knobs, then trains. Every knob is a parameter derived from the field families' declarations
(``lab.fields.knobs``): choosing a model sets its knobs to their declared, tuned defaults for
the task; widgets show only the knobs the chosen model takes. The runs (``lab.fields.plans``)
train in the room's worker process (``lab.fields.remote``), started at the first Train or Step;
opening the room only loads the target, so the page draws it at once. A ``BackgroundTask``
drives the worker one chunk (~50 ms) at a time and publishes its snapshots; pause, resume and
stop act between chunks. Learning rate, batch size, adaptive kernels and the compare pace apply
live; architecture knobs at the next Train or Reset. Exports and checkpoints: ``lab.fields.export``;
the radiance camera, isosurface and orbit: ``lab.fields.radiance``.
"""
from __future__ import annotations

import dataclasses
import threading

import param
import torch

from engines.fields.images import ImageTarget
from lab.fields import knobs as declared
from lab.fields import targets
from lab.fields.export import Exports
from lab.fields.parameters import FieldsParameters
from lab.fields.plans import Planned, plan_runs
from lab.fields.radiance import RadianceActions
from lab.fields.remote import TrainingProcess
from lab.fields.training import View
from lab.tasks import BackgroundTask
from lab.worker import WorkerError

PROGRESS_INTERVAL = 0.5       # seconds between progress-line updates (each one is redrawn by the browser)
LIVE = ("learning_rate", "batch_size", "adaptive")
TARGET_SETTINGS = ("task", "image_source", "image_size", "shape_source", "scene_source", "scene_size", "scene_views")
SOURCES = {"image": "image_source", "shape": "shape_source", "radiance": "scene_source"}  # flatland has one scene
PLAN_SETTINGS = ("task", "model", "seed", "compare_model", "same_budget", "parameter_budget") + declared.KNOB_NAMES


class FieldsRoom(FieldsParameters, Exports, RadianceActions):
    """Train an RBF neural field (or a baseline) on an image, a 3-D shape or a radiance scene."""

    def __init__(self, **params):
        self._uploads: dict[str, object] = {}    # uploaded targets, by the name shown among the sources
        super().__init__(**params)
        self.process = self.owns(TrainingProcess())  # closed after the task that calls it has stopped
        self.background = self.owns(BackgroundTask(name="fields-training", kind="live",
                                                         publish_interval=PROGRESS_INTERVAL))
        self._remaining = 0
        self._target = self._source_target()
        self._publish(target_name=self._source_name())
        self.param.watch(self._on_target_settings, list(TARGET_SETTINGS))
        self.param.watch(self._on_live_settings, [*LIVE, "compare_pace"])
        self.param.watch(lambda *_: self.replan(), list(PLAN_SETTINGS))
        self._watch_views()
        self.replan()

    # ---- targets -------------------------------------------------------------------------
    def _source_name(self) -> str:
        return getattr(self, SOURCES[self.task]) if self.task in SOURCES else "flatland"

    def _source_target(self):
        name = self._source_name()
        if name in self._uploads:
            return self._uploads[name]
        if self.task == "image":
            return targets.image_target(name, self.image_size)
        if self.task == "radiance":
            return targets.scene_target(name, self.scene_size, self.scene_views)
        if self.task == "flatland":
            return targets.flatland_target(self.seed)
        return targets.shape_target(name, self.seed)

    def _on_target_settings(self, *_events) -> None:
        if not self._quiet:
            self.set_target(self._source_target(), self._source_name())

    def set_target(self, target, name: str) -> None:
        """Train on ``target`` from now on; training stops and the runs start afresh."""
        self.background.clear()
        self._target = target
        self.process.forget()
        self._publish(target_name=name, notice=getattr(target, "notice", None) or "", snapshot=None,
                      rival_snapshot=None, density_surface=None, generation=self.generation + 1)
        self.replan()

    def upload(self, data: bytes, filename: str) -> None:
        """An uploaded image (PNG/JPEG/TIFF), mesh (PLY/STL/OBJ/OFF) or posed views (a zip in the
        NeRF-synthetic layout, a tiny_nerf .npz), chosen by extension; it joins the sources under
        its file name. Raises InvalidInputError for a bad file (target and runs are then kept)."""
        task, target = targets.from_upload(data, filename, self.image_size, self.seed, self.scene_size)
        self.add_source(task, filename, target)

    def add_source(self, task: str, name: str, target) -> None:
        """``target`` (uploaded, or a checkpoint's) becomes the chosen source of ``task``, listed
        among the sources under ``name``; training stops and the runs start afresh."""
        source = SOURCES[task]
        if name not in targets.bundled_sources(task):
            self._uploads[name] = target
        if name not in self.param[source].objects:
            self.param[source].objects = [*self.param[source].objects, name]
        self._set_quietly(task=task, **{source: name})
        self._follow_knobs(changed={"task"})
        self.set_target(target, name)

    @property
    def target(self):
        return self._target

    @property
    def is_image(self) -> bool:
        return isinstance(self._target, ImageTarget)

    @property
    def kind(self) -> str:
        """What the target is (image, shape, radiance or flatland): the task it was loaded for."""
        return targets.task_of(self._target)

    # ---- what Train builds ---------------------------------------------------------------
    def replan(self) -> None:
        """Work out the runs and their parameter counts, off the event loop (fitting a budget
        builds fields on torch's meta device), and publish them if nothing changed meanwhile."""
        wanted = self.settings()

        def plan() -> None:
            try:
                runs = plan_runs(wanted)
            except Exception as error:  # an impossible budget: said when Train is pressed
                self._publish(notice=str(error))
                return
            if self.settings() == wanted:
                self._publish(planned=runs)
        threading.Thread(target=plan, daemon=True, name="fields-plan").start()

    def plans(self) -> list[Planned]:
        """The runs the current settings build, each checked against the lab's size limit."""
        runs = plan_runs(self.settings())
        for run in runs:
            declared.check_size(run.plan.config.model, run.parameters)
        return runs

    @property
    def run_models(self) -> list[str]:
        """Model keys of the runs being trained or planned (the compared one second)."""
        return [p.plan.config.model for p in self.planned] or [self.model]

    def runs(self) -> list:
        """Each run's state in plain values (``lab.fields.training.RunInfo``), model first; none
        before the first Train or Step."""
        return self.process.training.describe() if self.process.has_runs else []

    def field(self, index: int = 0) -> torch.nn.Module:
        """A copy of a run's field, taken from the worker (the runs are built if need be)."""
        self._ensure_runs()
        return self.process.training.field(index)

    def _view(self) -> View:
        return View(self.preview_resolution, self.slice_z, self.azimuth, self.elevation, self.preview_size,
                    self.held_out_view, self.flatland_camera, self.flatland_pixel)

    # ---- actions -------------------------------------------------------------------------
    def _ensure_runs(self) -> None:
        """Build the runs in the worker when they do not match the settings (starts the worker)."""
        plans = [p.plan for p in self.plans()]
        if not self.process.matches(plans, self.device, self._target):
            shots = self.process.build(plans, self.device, self._target, self._view(), self.compare_pace)
            self._publish_snapshots(shots, generation=self.generation + 1)

    def reset(self) -> None:
        """Stop training; the next Train or Step builds fresh runs from the current settings."""
        self.background.clear()
        self.process.forget()
        self._publish(snapshot=None, rival_snapshot=None, density_surface=None, generation=self.generation + 1)
        self.replan()

    def train(self) -> None:
        """Train for ``steps`` more steps (resumes when paused; rebuilds if the settings changed).
        Building the runs happens in the task's thread, so the click is answered at once."""
        if self.background.state == "paused":
            self.background.resume()
            return
        if self.background.is_alive:
            return
        self._remaining = -1  # the first chunk builds the runs
        self.background.start(self._advance, total_steps=self.steps, on_finish=self._finished)

    def pause(self) -> None:
        """Pause after the chunk in flight; the page then shows the runs as they stopped."""
        if self.background.state != "running":
            return
        self.background.pause()
        view = self._view()  # the worker answers after the chunk in flight: its snapshot is the paused state
        threading.Thread(target=lambda: self._publish_snapshots(self.process.training.snapshots(view)),
                         daemon=True, name="fields-paused").start()

    def step(self, n: int = 10) -> None:
        """Advance ``n`` steps now (when not training in the background) and show the result."""
        if self.background.state == "running":
            return
        self._ensure_runs()
        self._publish_snapshots(self.process.training.step(n, self._view()))

    def _advance(self) -> int | None:
        """The background step function: one chunk in the worker, and its snapshots if it took any."""
        if self._remaining < 0:
            self._ensure_runs()
            self.process.training.begin()
            self._remaining = self.steps
        if self._remaining <= 0:
            return None
        n, shots = self.process.training.advance(self._remaining, self._view())
        self._remaining -= n
        if shots is not None:
            self._publish_snapshots(shots)
        return n

    def _finished(self, outcome: str) -> None:
        if not self.process.has_runs:
            return
        try:  # after a divergence this shows the restored state
            self._publish_snapshots(self.process.training.snapshots(self._view()))
        except WorkerError:
            if outcome != "stopped":
                raise
            # the tab closed: the room closed its worker while the run stopped; nothing to show

    def _publish_snapshots(self, shots: list, **also) -> None:
        """Publish the runs' snapshots (with ``also``) in one update."""
        self._publish(snapshot=shots[0], rival_snapshot=shots[1] if len(shots) > 1 else None, **also)

    def refine(self) -> None:
        """Recompute the isosurfaces at ``full_resolution`` now (shapes only)."""
        if self.kind == "shape" and self.process.has_runs:
            self._publish_snapshots(self.process.training.refine(self.full_resolution, self.slice_z))

    def _on_live_settings(self, *events) -> None:
        names = {"compare_pace": "pace"}
        self.process.configure(**{names.get(e.name, e.name): e.new for e in events})

    @param.depends("slice_z", watch=True)
    def _apply_slice(self) -> None:
        shots = [s for s in (self.snapshot, self.rival_snapshot) if s is not None]
        if self.kind != "shape" or not shots or self.background.state == "running" or not self.process.has_runs:
            return  # while training, the next snapshot carries the new slice
        values = self.process.training.slice(self.slice_z, len(shots[0].slice_values))
        self._publish_snapshots([dataclasses.replace(s, slice_values=v, slice_z=self.slice_z)
                                 for s, v in zip(shots, values)])
