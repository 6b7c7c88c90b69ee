"""The neural fields room: controls on the left; progress, views and curves on the right."""
from __future__ import annotations

import contextlib
import io

import panel as pn

from engines.errors import EngineError
from lab.fields.model import FieldsRoom
from lab.fields.run import MODELS
from lab.fields.targets import IMAGE_EXTENSIONS, MESH_EXTENSIONS
from views.errors import notify_error, notify_info
from views.fields.curves import Curves
from views.fields.image_view import ImageView
from views.fields.updates import LatestOnly
from views.progress import TaskProgress

UPLOAD_ACCEPT = ",".join(IMAGE_EXTENSIONS + MESH_EXTENSIONS)
MODEL_PARAMS = ("model", "n_kernels", "top_k", "grid_levels", "grid_resolution", "adaptive", "seed")
TRAINING_PARAMS = ("learning_rate", "batch_size", "steps", "compare_model", "device")


def _from_param(model, name: str, **kwargs):
    kinds = {"task": pn.widgets.RadioButtonGroup, "adaptive": pn.widgets.Checkbox, "steps": pn.widgets.IntInput,
             "learning_rate": pn.widgets.FloatInput, "slice_z": pn.widgets.FloatSlider}
    kind = kinds.get(name)
    if kind is None:
        return pn.Param(model.param[name], show_name=False, sizing_mode="stretch_width")[0]
    return kind.from_param(model.param[name], sizing_mode="stretch_width", css_classes=[f"fields-{name}"],
                           **kwargs)


class FieldsRoomView(pn.viewable.Viewer):
    """Renders a ``FieldsRoom``; it keeps nothing but presentation state."""

    def __init__(self, model: FieldsRoom | None = None, **params):
        super().__init__(**params)
        self.model = model or FieldsRoom()
        self.curves = Curves()
        self.image_view = ImageView()
        self.shape_view = None  # built on first use: pyvista is slow to import
        self._drawn_generation = -1
        self.metric = pn.pane.Markdown("", css_classes=["fields-metric"], margin=(0, 10))
        self.views = pn.Column(self.image_view.show_kernels, self.image_view.show_init_weights,
                               self.image_view.pane, sizing_mode="stretch_width")
        self.buttons = self._buttons()
        self.controls = self._controls()
        self._layout = self._compose()
        self._redraw = LatestOnly(self._draw)
        self.model.param.watch(self._redraw, ["snapshot", "generation"])
        self.model.param.watch(self._show_notice, "notice")
        self._draw()

    # ---- controls ------------------------------------------------------------------------
    def _controls(self) -> pn.Column:
        m = self.model
        self.upload = pn.widgets.FileInput(accept=UPLOAD_ACCEPT, multiple=False, sizing_mode="stretch_width")
        self.upload.param.watch(self._on_upload, "value")
        self.image_source = pn.Column(_from_param(m, "image_source"), _from_param(m, "image_size"))
        self.shape_source = pn.Column(_from_param(m, "shape_source"), _from_param(m, "preview_resolution"),
                                      _from_param(m, "full_resolution"), _from_param(m, "slice_z"))
        m.param.watch(lambda _e: self._show_task(), "task")
        sources = pn.Column(_from_param(m, "task"), self.image_source, self.shape_source,
                            pn.pane.Markdown("Upload an image (PNG, JPEG, TIFF) or a mesh (PLY, STL, OBJ, OFF):",
                                             margin=(0, 10)),
                            self.upload, sizing_mode="stretch_width")
        model_box = pn.Column(*(_from_param(m, name) for name in MODEL_PARAMS), sizing_mode="stretch_width")
        training_box = pn.Column(*(_from_param(m, name) for name in TRAINING_PARAMS), sizing_mode="stretch_width")
        self._show_task()
        return pn.Column(pn.Card(sources, title="Target", sizing_mode="stretch_width"),
                         pn.Card(model_box, title="Model", sizing_mode="stretch_width"),
                         pn.Card(training_box, title="Training", sizing_mode="stretch_width"),
                         pn.Card(self._export_box(), title="Export and checkpoints", collapsed=True,
                                 sizing_mode="stretch_width"),
                         width=320)

    def _buttons(self) -> pn.Row:
        train = pn.widgets.Button(label="Train", color="primary")
        pause = pn.widgets.Button(label="Pause", color="warning")
        step = pn.widgets.Button(label="Step", color="light")
        reset = pn.widgets.Button(label="Reset", color="danger")
        self.refine = pn.widgets.Button(label="Full-resolution mesh", color="light")
        train.on_click(lambda _e: self.model.train())
        pause.on_click(lambda _e: self.model.pause())
        step.on_click(lambda _e: self.model.step())
        reset.on_click(lambda _e: self.model.reset())
        self.refine.on_click(lambda _e: self.model.refine())
        return pn.Row(train, pause, step, reset, self.refine)

    def _export_box(self) -> pn.Column:
        m = self.model
        downloads = [
            pn.widgets.FileDownload(callback=lambda: io.BytesIO(m.reconstruction_png()),
                                    filename="reconstruction.png", label="Reconstruction PNG"),
            pn.widgets.FileDownload(callback=lambda: io.BytesIO(m.mesh_bytes("ply")),
                                    filename="reconstruction.ply", label="Mesh PLY"),
            pn.widgets.FileDownload(callback=lambda: io.BytesIO(m.mesh_bytes("stl")),
                                    filename="reconstruction.stl", label="Mesh STL"),
            pn.widgets.FileDownload(callback=lambda: io.BytesIO(m.checkpoint_bytes()),
                                    filename="fields-checkpoint.pt", label="Checkpoint"),
        ]
        self.checkpoint_input = pn.widgets.FileInput(accept=".pt", sizing_mode="stretch_width")
        self.checkpoint_input.param.watch(self._on_checkpoint, "value")
        for download in downloads:
            download.sizing_mode = "stretch_width"
        return pn.Column(*downloads, pn.pane.Markdown("Load a checkpoint to continue training:", margin=(0, 10)),
                         self.checkpoint_input, sizing_mode="stretch_width")

    def _show_task(self) -> None:
        image = self.model.task == "image"
        self.image_source.visible, self.shape_source.visible = image, not image
        self.refine.visible = not image

    # ---- uploads -------------------------------------------------------------------------
    def _on_upload(self, event) -> None:
        if not event.new:
            return
        try:
            self.model.upload(event.new, self.upload.filename or "")
            notify_info(f"Loaded {self.upload.filename}")
        except EngineError as error:  # the previous target and model are kept
            notify_error(error)

    def _on_checkpoint(self, event) -> None:
        if not event.new:
            return
        try:
            self.model.load_checkpoint(event.new)
            notify_info(f"Loaded checkpoint {self.checkpoint_input.filename} at step {self.model.snapshot.step:,}")
        except EngineError as error:
            notify_error(error)

    def _show_notice(self, event) -> None:
        if event.new:
            notify_info(event.new)

    # ---- drawing -------------------------------------------------------------------------
    def _names(self) -> list[str]:
        return [MODELS[key].split(" (")[0] for key in self.model.run_models]

    def _new_generation(self) -> None:
        m = self.model
        self._drawn_generation = m.generation
        image = m.is_image
        self.curves.clear("PSNR (dB)" if image else "IoU", self._names())
        if image:
            keys = m.run_models + ["none"]
            self.image_view.set_names(m.target_name, keys[0], keys[1])
            self.views[:] = [pn.Row(self.image_view.show_kernels, self.image_view.show_init_weights),
                             self.image_view.pane]
        else:
            if self.shape_view is None:
                from views.fields.shape_view import ShapeView
                self.shape_view = ShapeView()
            self.shape_view.set_truth(m.target.mesh.vertices, m.target.mesh.faces)
            sv = self.shape_view
            self.views[:] = [pn.Row(sv.show_truth, sv.show_kernels, sv.show_slice), sv.pane]

    def _draw(self, *_events) -> None:
        # a 2-D redraw goes as one websocket message, not one per changed property (the browser
        # then renders once); not the 3-D view: its VTK scene sent inside a hold never showed
        with pn.io.hold() if self.model.is_image else contextlib.nullcontext():
            self._draw_now()

    def _draw_now(self) -> None:
        m = self.model
        if m.generation != self._drawn_generation:
            self._new_generation()
        shot, rival = m.snapshot, m.rival_snapshot
        if shot is None or hasattr(shot, "psnr") != m.is_image:
            return  # a snapshot of the previous target; the new one follows
        for index, s in enumerate((shot, rival)):
            if s is not None:
                self.curves.add(index, s.step, s.train_time, self._metric_value(s), s.loss)
        if m.is_image:
            self.image_view.draw(shot, rival)
        else:
            self.shape_view.draw(shot)
        self.metric.object = self._metric_text(shot, rival)

    @staticmethod
    def _metric_value(shot) -> float:
        return shot.psnr if hasattr(shot, "psnr") else shot.iou

    def _metric_text(self, shot, rival) -> str:
        def one(s, name):
            if hasattr(s, "psnr"):
                return f"**{name}: PSNR {s.psnr:.2f} dB** · loss {s.loss:.3g} · step {s.step:,} · {s.train_time:.1f} s"
            return (f"**{name}: IoU {s.iou:.3f}** · Chamfer {s.chamfer:.4f} · loss {s.loss:.3g} · "
                    f"step {s.step:,} · {s.resolution}³ mesh, {len(s.vertices):,} points")
        names = self._names()
        lines = [one(shot, names[0])]
        if rival is not None and len(names) > 1:
            lines.append(one(rival, names[1]))
        return "  \n".join(lines)

    def _compose(self) -> pn.Row:
        main = pn.Column(pn.Row(self.buttons, TaskProgress(self.model.background), sizing_mode="stretch_width"),
                         self.metric, self.views,
                         pn.Row(self.curves.metric_pane, self.curves.loss_pane, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
        return pn.Row(self.controls, main, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout


def build_room() -> pn.viewable.Viewable:
    return FieldsRoomView()
