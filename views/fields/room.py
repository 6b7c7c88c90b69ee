"""The neural fields room: two tabs, the room (controls on the left; progress, views and curves on
the right) and its Experiments (lab/experiments/fields.py), built the first time it is shown and
brought to the front when an experiment is set from the URL or the home page (``model.experiment``).

The 2-D view and the 3-D view (made the first time a shape is shown: pyvista is slow to import)
both stay in the page once there, and the task decides which one is visible: a VTK pane taken
out of a page breaks Panel's vtk.js view. Every redraw runs on the session's loop
(``views.session.Redraw``), latest only.
"""
from __future__ import annotations

import contextlib
import math

import panel as pn

from engines.errors import EngineError
from lab.fields import FieldsRoom
from lab.fields.knobs import short_label
from lab.experiments.registry import room_experiments
from lab.fields.remote import warm_up_soon
from views.errors import notify_error, notify_info
from views.fields.controls import UPLOAD_ACCEPT, downloads, model_card, target_card, training_card
from views.fields.curves import Curves
from views.fields.density import DensitySurface
from views.experiments import ExperimentsPanel
from views.fields.image_view import ImageView
from views.progress import TaskProgress
from views.session import Redraw
from views.widgets import show_when

INTRO = ("**Neural fields** fit a signal with a small network: an image (colour at each point), a shape "
         "(signed distance to its surface) or a radiance field (density and colour, learnt from posed views by "
         "volume rendering; flatland draws every ray of it in 2-D). Watch radial-basis-function fields (GNF, NeuRBF) learn beside "
         "MLP and grid baselines, at the same parameter budget if you like.")
NOT_YET = "—"
HINT = "Press **Train** or **Step**: the reconstruction and its error appear here."
TABS = ("Room", "Experiments")
EXPERIMENTS_TAB = TABS.index("Experiments")


def number(value: float | None, spec: str, unit: str = "") -> str:
    """``value`` formatted with its unit, or "—" when it is not computed yet (NaN, infinite, None)."""
    if value is None or not math.isfinite(value):
        return NOT_YET
    return format(value, spec) + (f" {unit}" if unit else "")


SNAPSHOT_KINDS = {"ImageSnapshot": "image", "ShapeSnapshot": "shape", "RadianceSnapshot": "radiance",
                  "FlatlandSnapshot": "flatland"}


def run_line(name: str, parameters: int | None, shot, kind: str) -> str:
    """One run's line: its name, parameter count and metrics (dashes before it trained)."""
    count = f" ({parameters:,} parameters)" if parameters else ""
    step, seconds = (shot.step, shot.train_time) if shot is not None else (0, 0.0)
    if kind == "image":
        metrics = f"PSNR {number(shot.psnr if shot else None, '.2f', 'dB')}"
    elif kind in ("radiance", "flatland"):
        metrics = f"held-out PSNR {number(shot.psnr if shot else None, '.2f', 'dB')}"
        if kind == "flatland":
            share = 100 * shot.density_error if shot else None
            metrics += f" · density error {number(share, '.1f', '% of its range')}"
    else:
        metrics = (f"IoU {number(shot.iou if shot else None, '.3f')} · "
                   f"Chamfer {number(shot.chamfer if shot else None, '.4f', 'scene units')}")
    loss = number(shot.loss if shot else None, ".3g")
    return f"**{name}**{count} · {metrics} · loss {loss} · step {step:,} · {seconds:.1f} s of training"


class FieldsRoomView(pn.viewable.Viewer):
    """Renders a ``FieldsRoom``; it keeps nothing but presentation state."""

    def __init__(self, model: FieldsRoom | None = None, **params):
        super().__init__(**params)
        self.model = model or FieldsRoom()
        self.curves = Curves()
        self.image_view = ImageView()
        self.shape_view = None  # made on first use: pyvista is slow to import
        self._drawn_generation = -1
        self.metric = pn.pane.Markdown("", css_classes=["fields-metric"], margin=(0, 10))
        self.count = pn.pane.Markdown("", css_classes=["fields-count"], margin=(0, 10))
        self.hint = pn.pane.Markdown("", css_classes=["fields-radiance-hint"], margin=(0, 10), visible=False)
        self.image_box = pn.Column(pn.Row(self.image_view.show_kernels, self.image_view.show_init_weights),
                                   self.image_view.pane, sizing_mode="stretch_width")
        self.radiance_view = self.flatland_view = None  # made on first use
        self.density = DensitySurface(self.model, lambda: self._redraw())   # its button is made with the others
        # each view goes into its place once, then is only hidden or shown (the 3-D one below the 2-D ones)
        self._radiance_slot, self._shape_slot = pn.Column(sizing_mode="stretch_width"), pn.Column(sizing_mode="stretch_width")
        self.views = pn.Column(self.image_box, self._radiance_slot, self._shape_slot, sizing_mode="stretch_width")
        # what became of the latest upload, beside its input (a notification can be missed)
        self.upload_status = pn.pane.Markdown("", css_classes=["fields-upload-status"], margin=(0, 10))
        self.checkpoint_status = pn.pane.Markdown("", css_classes=["fields-checkpoint-status"], margin=(0, 10))
        self.upload = pn.widgets.FileInput(accept=UPLOAD_ACCEPT, multiple=False, sizing_mode="stretch_width",
                                           css_classes=["fields-upload"])
        self.checkpoint_input = pn.widgets.FileInput(accept=".pt", sizing_mode="stretch_width",
                                                     css_classes=["fields-checkpoint-upload"])
        # Panel turns an empty file's content into None: only its name says a file came
        self.upload.param.watch(self._on_upload, ["value", "filename"])
        self.checkpoint_input.param.watch(self._on_checkpoint, ["value", "filename"])
        self.experiments: ExperimentsPanel | None = None   # made when first shown
        self._experiments_box = pn.Column(sizing_mode="stretch_width")
        self.tabs = pn.Tabs((TABS[0], self._compose()), (TABS[1], self._experiments_box), sizing_mode="stretch_width")
        self.tabs.param.watch(lambda event: self._build_experiments() if event.new == EXPERIMENTS_TAB else None,
                              "active")
        self.model.param.watch(lambda _event: self._show_experiment(), "experiment")
        self._show_experiment()
        self._layout = self.tabs
        self._redraw = Redraw(self._draw)
        self.model.param.watch(self._redraw, ["snapshot", "rival_snapshot", "generation", "planned", "task",
                                              "target_name", "model", "compare_model", "azimuth", "elevation",
                                              "density_surface"])
        self.model.param.watch(self._show_notice, "notice")
        self._draw()

    # ---- layout --------------------------------------------------------------------------
    def _buttons(self) -> pn.Row:
        m = self.model
        buttons = {label: pn.widgets.Button(label=label, color=colour) for label, colour in
                   (("Train", "primary"), ("Pause", "warning"), ("Step", "light"), ("Reset", "danger"),
                    ("Full-resolution mesh", "light"), ("Extract density surface", "light"))}
        for label, action in (("Train", m.train), ("Pause", m.pause), ("Step", m.step), ("Reset", m.reset),
                              ("Full-resolution mesh", m.refine), ("Extract density surface", self.density.extract)):
            buttons[label].on_click(lambda _e, act=action: act())
        for label, task in (("Full-resolution mesh", "shape"), ("Extract density surface", "radiance")):
            show_when(buttons[label], m, ["task"], lambda t, task=task: t == task)
        return pn.Row(*buttons.values())

    def _compose(self) -> pn.Row:
        m = self.model
        export = pn.Card(downloads(m), pn.pane.Markdown("Load a checkpoint to continue training:", margin=(0, 10)),
                         self.checkpoint_input, self.checkpoint_status, title="Export and checkpoints",
                         sizing_mode="stretch_width", css_classes=["secondary"])
        controls = pn.Column(target_card(m, self.upload, self.upload_status), model_card(m, self.count),
                             training_card(m), export, width=320)
        main = pn.Column(pn.pane.Markdown(INTRO, margin=(0, 10)), self._buttons(),
                         TaskProgress(m.background), self.metric, self.hint, self.views,
                         pn.Row(self.curves.metric_pane, self.curves.loss_pane, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
        return pn.Row(controls, main, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    # ---- experiments ---------------------------------------------------------------------
    def _build_experiments(self) -> None:
        if self.experiments is None:
            self.experiments = ExperimentsPanel(self.model, room_experiments("fields"))
            self._experiments_box[:] = [self.experiments]

    def _show_experiment(self) -> None:
        """An experiment set from the URL or the home page: its tab to the front."""
        if self.model.experiment:
            self._build_experiments()
            self.tabs.active = EXPERIMENTS_TAB

    # ---- uploads -------------------------------------------------------------------------
    def _on_upload(self, *_events) -> None:
        name = self._received(self.upload)
        if name is not None:
            self._report(self.upload_status, lambda: self.model.upload(self.upload.value or b"", name),
                         lambda: f"Loaded {name}: the {self.model.task} to learn is now {self.model.target_name}")

    def _on_checkpoint(self, *_events) -> None:
        name = self._received(self.checkpoint_input)
        if name is not None:
            self._report(self.checkpoint_status,
                         lambda: self.model.load_checkpoint(self.checkpoint_input.value or b"", name),
                         lambda: f"Loaded checkpoint {name} at step {self.model.snapshot.step:,}")

    @staticmethod
    def _report(status: pn.pane.Markdown, action, success) -> None:
        """Run ``action``; say how it went beside the input and in a notification. A bad file
        leaves the room as it was."""
        try:
            action()
        except EngineError as error:
            status.object, status.styles = f"⚠ {error}", {"color": "#c62828"}
            notify_error(error)
            return
        status.object, status.styles = success(), {"color": "#2e7d32"}
        notify_info(status.object)

    @staticmethod
    def _received(file_input: pn.widgets.FileInput) -> str | None:
        """The name of the file just chosen (None when the input was cleared); the input is
        cleared, so that choosing the same file again is heard too."""
        name = file_input.filename
        if not name:
            return None
        file_input.clear()
        return name

    def _show_notice(self, event) -> None:
        if event.new:
            notify_info(event.new)

    # ---- drawing -------------------------------------------------------------------------
    def _runs(self) -> list[tuple[str, int | None]]:
        """(name, parameter count) of each run the settings ask for; no count while it is being
        worked out for a newly chosen model."""
        m = self.model
        wanted = [m.model] + ([m.compare_model] if m.compare_model != "none" else [])
        if [p.plan.config.model for p in m.planned] != wanted:
            return [(short_label(name), None) for name in wanted]
        return [(p.name, p.parameters) for p in m.planned]

    def _ensure_shape_view(self):
        if self.shape_view is None:
            from views.fields.shape_view import ShapeView
            self.shape_view = ShapeView()
            sv = self.shape_view
            self.shape_box = pn.Column(sv.controls, sv.caption, sv.pane, sizing_mode="stretch_width")
            self._shape_slot.append(self.shape_box)  # added once, then only hidden or shown
        return self.shape_view

    def _ensure_radiance_views(self) -> None:
        if self.radiance_view is None:
            from views.fields.radiance_view import FlatlandView, NovelView
            self.radiance_view, self.flatland_view = NovelView(self.model), FlatlandView(self.model)
            self._radiance_slot.extend([self.radiance_view.pane, self.flatland_view.pane])  # added once, then hidden or shown

    def _draw(self, *_events) -> None:
        # a 2-D redraw goes as one websocket message, not one per changed property (the browser
        # then renders once); not the 3-D view: its VTK scene sent inside a hold never showed
        with pn.io.hold() if self.model.kind != "shape" else contextlib.nullcontext():
            self._draw_now()
        if self.model.kind == "radiance":   # its cameras and density surface, outside the hold
            self.density.draw(self._ensure_shape_view())

    def _draw_now(self) -> None:
        m = self.model
        runs = self._runs()
        names = [name for name, _ in runs]
        shots = [m.snapshot, m.rival_snapshot][:len(runs)]
        kind = m.kind
        if any(s is not None and SNAPSHOT_KINDS[type(s).__name__] != kind for s in shots):
            return  # a snapshot of the previous target; the new one follows
        if m.generation != self._drawn_generation:
            self._drawn_generation = m.generation
            self.curves.clear("IoU" if kind == "shape" else "PSNR (dB)", [f"{n} ({c:,})" if c else n for n, c in runs])
        for index, shot in enumerate(shots):
            if shot is not None:
                self.curves.add(index, shot.step, shot.train_time, shot.iou if kind == "shape" else shot.psnr, shot.loss)
        self.count.object = "  \n".join(f"{n}: **{c:,} parameters**" for n, c in runs if c)
        self.metric.object = "  \n".join(run_line(n, c, s, kind) for (n, c), s in zip(runs, shots))
        hint = "" if m.snapshot is not None else HINT
        self.image_box.visible = kind == "image"
        if kind == "image":
            self.image_view.draw(m.target.display(m.target.image), m.target_name, names, shots, hint)
        elif kind == "shape":
            self._draw_shape(names, shots)
        else:
            self._ensure_radiance_views()
            (self.radiance_view if kind == "radiance" else self.flatland_view).draw(names, shots)
        if self.shape_view is not None:
            self.shape_box.visible = kind in ("shape", "radiance")
        if self.radiance_view is not None:
            self.radiance_view.pane.visible, self.flatland_view.pane.visible = kind == "radiance", kind == "flatland"
        self.hint.object, self.hint.visible = hint, bool(hint) and kind in ("radiance", "flatland")

    def _draw_shape(self, names: list[str], shots: list) -> None:
        m = self.model
        new_target = getattr(self, "_truth_of", None) is not m.target
        view = self._ensure_shape_view()
        if new_target:
            self._truth_of = m.target
            view.set_truth(m.target.mesh.vertices, m.target.mesh.faces)
        caption = f"Target: **{m.target_name}**"
        if len(names) > 1:
            caption += f" · left: {names[0]} · right: {names[1]}"
        view.draw(shots, caption)


def build_room() -> FieldsRoomView:
    view = FieldsRoomView()
    view.model.close_with_session()
    warm_up_soon()  # after the first paint: the server's forkserver, not a process of this session
    return view
