"""The fields room's controls: one widget per parameter, shown only where it applies.

The knob widgets are derived from the families' declarations (``lab.fields.knobs``): each is
shown while the chosen model takes it for the chosen task, so adding a family adds no code here.
"""
from __future__ import annotations

import io
from typing import Callable

import panel as pn
import param

from engines.fields.family import KNOBS, TRAINING_KNOBS
from engines.fields.radiance.export import mp4_available
from lab.fields import knobs as declared
from lab.fields.model import FieldsRoom
from lab.fields.targets import IMAGE_EXTENSIONS, MESH_EXTENSIONS, SCENE_EXTENSIONS
from lab.uploads import limit_text
from views.errors import notify_error
from views.widgets import param_widget, show_when

UPLOAD_ACCEPT = ",".join(IMAGE_EXTENSIONS + MESH_EXTENSIONS + SCENE_EXTENSIONS)
WIDGETS = {"task": pn.widgets.RadioButtonGroup, "model": pn.widgets.Select, "compare_model": pn.widgets.Select,
           "compare_pace": pn.widgets.RadioButtonGroup, "slice_z": pn.widgets.FloatSlider}


class Download(pn.widgets.FileDownload):
    """A download whose file may be refused: the user reads why (an EngineError), and the server
    log gets one line instead of Panel's traceback for a failed callback (a bug: its traceback)."""

    @param.depends("_clicks", watch=True)
    def _transfer(self):
        try:
            super()._transfer()
        except Exception as error:
            notify_error(error)


def widget(model: FieldsRoom, name: str, **options) -> pn.widgets.Widget:
    return param_widget(model, name, WIDGETS.get(name), css_classes=[f"fields-{name}"], **options)


def knob_widget(model: FieldsRoom, name: str) -> pn.widgets.Widget:
    """A knob's widget, shown while the model takes it; a size knob fitted to a budget is locked."""
    box = show_when(widget(model, name), model, ["model", "task"], lambda m, t: declared.applies(name, m, t))

    def lock(*_events) -> None:
        box.disabled = model.same_budget and declared.size_knob(model.model) == name
    model.param.watch(lock, ["same_budget", "model"])
    lock()
    return box


UPLOAD_NOTES = {   # what an upload of each task is (any of them is recognised by its extension)
    "image": "Upload an image (PNG, JPEG, TIFF) or a mesh (PLY, STL, OBJ, OFF), {limit}:",
    "shape": "Upload a mesh (PLY, STL, OBJ, OFF) or an image (PNG, JPEG, TIFF), {limit}:",
    "radiance": "Upload posed views: a ZIP in the NeRF-synthetic layout (transforms_train.json and its "
                "images) or tiny_nerf's NPZ, {limit}:",
    "flatland": "Flatland's scene is made in the lab from the seed (nothing to upload).",
}


def target_card(model: FieldsRoom, upload: pn.widgets.FileInput, status: pn.pane.Markdown) -> pn.Card:
    image = pn.Column(widget(model, "image_source"), widget(model, "image_size"), sizing_mode="stretch_width")
    shape = pn.Column(*(widget(model, n) for n in ("shape_source", "preview_resolution", "full_resolution",
                                                   "slice_z")), sizing_mode="stretch_width")
    scene = pn.Column(*(widget(model, n) for n in ("scene_source", "scene_size", "scene_views", "full_resolution")),
                      sizing_mode="stretch_width")
    show_when(image, model, ["task"], lambda t: t == "image")
    show_when(shape, model, ["task"], lambda t: t == "shape")
    show_when(scene, model, ["task"], lambda t: t == "radiance")
    note = pn.pane.Markdown("", margin=(0, 10), css_classes=["fields-upload-note"])

    def say_what_to_upload(*_events) -> None:
        note.object = UPLOAD_NOTES[model.task].format(limit=limit_text())
        upload.visible = model.task != "flatland"
    model.param.watch(say_what_to_upload, "task")
    say_what_to_upload()
    return pn.Card(widget(model, "task"), image, shape, scene, note, upload, status, title="Target",
                   sizing_mode="stretch_width")


def model_card(model: FieldsRoom, count: pn.pane.Markdown) -> pn.Card:
    architecture = [knob_widget(model, n) for n in declared.KNOB_NAMES if n not in TRAINING_KNOBS]
    return pn.Card(widget(model, "model"), count, *architecture, widget(model, "seed"), title="Model",
                   sizing_mode="stretch_width")


def training_card(model: FieldsRoom) -> pn.Card:
    live = [knob_widget(model, n) for n in TRAINING_KNOBS if n in KNOBS]
    pace = show_when(widget(model, "compare_pace"), model, ["compare_model"], lambda c: c != "none")
    budget = show_when(widget(model, "parameter_budget"), model, ["same_budget"], bool)
    return pn.Card(*live, widget(model, "steps"), widget(model, "compare_model"), pace,
                   widget(model, "same_budget"), budget, widget(model, "device"), title="Training",
                   sizing_mode="stretch_width")


def downloads(model: FieldsRoom) -> pn.Column:
    """Each export shown only for the task it belongs to (MP4 only where imageio-ffmpeg is installed)."""
    def download(make: Callable[[], bytes], filename: str, label: str, task: str | None,
                 css: str | None = None) -> pn.viewable.Viewable:
        button = Download(callback=lambda: io.BytesIO(make()), filename=filename, label=label,
                          sizing_mode="stretch_width", css_classes=[css or f"fields-export-{filename.split('.')[-1]}"])
        return show_when(button, model, ["task"], lambda t: task is None or t == task)
    orbits = [download(lambda kind=kind: model.orbit_animation(kind), f"orbit.{kind}", f"Orbit {kind.upper()}",
                       "radiance", f"fields-export-orbit-{kind}") for kind in ("gif", "mp4")[:1 + mp4_available()]]
    return pn.Column(download(model.reconstruction_png, "reconstruction.png", "Reconstruction PNG", "image"),
                     download(lambda: model.mesh_bytes("ply"), "reconstruction.ply", "Mesh PLY", "shape"),
                     download(lambda: model.mesh_bytes("stl"), "reconstruction.stl", "Mesh STL", "shape"),
                     *orbits,
                     download(lambda: model.mesh_bytes("ply"), "density.ply", "Density mesh PLY", "radiance",
                              "fields-export-density-ply"),
                     download(model.checkpoint_bytes, "fields-checkpoint.pt", "Checkpoint", None),
                     sizing_mode="stretch_width")
