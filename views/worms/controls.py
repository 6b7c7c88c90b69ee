"""The room's side panel: dataset, worm, ordering, preprocessing, neuron search, simulation,
and files to open (upload or a path on the server)."""
from __future__ import annotations

import panel as pn

from engines.errors import EngineError
from views.errors import notify_error, notify_info

ACCEPTED = ".h5,.hdf5,.csv,.npz,.nwb,.mat,.parquet,.pickle,.pkl"


def _from_param(widget_class, parameter, **kwargs):
    return widget_class.from_param(parameter, sizing_mode="stretch_width", **kwargs)


def dataset_controls(model) -> pn.Column:
    dataset = _from_param(pn.widgets.Select, model.param.dataset, label="Dataset")
    worm = _from_param(pn.widgets.Select, model.param.worm, label="Worm")
    compare = _from_param(pn.widgets.MultiChoice, model.param.compare_worms, label="Worms to compare")
    order = _from_param(pn.widgets.RadioButtonGroup, model.param.order, label="Order rows by")
    return pn.Column(dataset, worm, pn.pane.Markdown("Order rows by", margin=(0, 10)), order,
                     compare, sizing_mode="stretch_width")


def neuron_controls(model) -> pn.Column:
    """Search by name or class; Enter (or the button) adds the first match's trace."""
    search = pn.widgets.TextInput.from_param(model.param.query, label="Find neuron (name or class)",
                                             placeholder="e.g. AVA, RIML, VB", sizing_mode="stretch_width",
                                             name="find-neuron")
    add = pn.widgets.Button(label="Add trace", color="primary", sizing_mode="stretch_width")
    matches = pn.pane.Markdown("", margin=(0, 10), css_classes=["neuron-matches"])
    picked = pn.widgets.MultiChoice.from_param(model.param.selected, label="Traces shown",
                                               options=[], sizing_mode="stretch_width")

    def show_matches(*_):
        found = model.matches
        matches.object = ("matches: " + ", ".join(found[:12]) + (" ..." if len(found) > 12 else "")
                          if found else ("no identified neuron matches" if model.query.strip() else ""))

    def refresh_options(*_):
        rec = model.recording
        picked.options = sorted(rec.labelled_columns()) if rec is not None else []

    def add_first(*_):
        if model.query.strip():
            model.add_neuron(model.query)  # errors reach the shell's notification handler

    model.param.watch(show_matches, ["matches", "query"])
    model.param.watch(refresh_options, "recording")
    add.on_click(add_first)
    search.param.watch(add_first, "enter_pressed")
    refresh_options()
    return pn.Column(search, add, matches, picked, sizing_mode="stretch_width")


WIDGET_WIDTH = 265


def _widgets(model, names: list[str], kinds: dict | None = None) -> list:
    """Widgets for the named parameters, sized to fit the side panel."""
    kinds = kinds or {}
    out = []
    for name in names:
        parameter = model.param[name]
        widget = kinds.get(name)
        if widget is None:
            out.append(pn.Param(model.param, parameters=[name], show_name=False,
                                widgets={name: {"width": WIDGET_WIDTH}}, width=WIDGET_WIDTH + 10))
        else:
            out.append(widget.from_param(parameter, width=WIDGET_WIDTH))
    return out


def preprocessing_controls(model) -> pn.Card:
    names = ["resample_dt", "smoothing", "smoothing_window", "smoothing_sigma_s", "derivative",
             "normalisation", "merge_bilateral"]
    kinds = {"smoothing": pn.widgets.Select, "normalisation": pn.widgets.RadioButtonGroup,
             "derivative": pn.widgets.Checkbox, "merge_bilateral": pn.widgets.Checkbox}
    return pn.Card(*_widgets(model, names, kinds), title="Preprocessing", collapsed=False, width=300)


def file_controls(model) -> pn.Card:
    """Open a file by upload (with its labels CSV for Flavell HDF5) or by path on the server."""
    upload = pn.widgets.FileInput(accept=ACCEPTED, multiple=True, sizing_mode="stretch_width")
    path = pn.widgets.TextInput(label="Path on the server", placeholder="/data/worms/ or file.h5",
                                sizing_mode="stretch_width")
    open_path = pn.widgets.Button(label="Open path", sizing_mode="stretch_width")

    def uploaded(event):
        if not upload.value:
            return
        names = upload.filename if isinstance(upload.filename, list) else [upload.filename]
        data = upload.value if isinstance(upload.value, list) else [upload.value]
        try:
            model.load_upload(list(zip(names, data)))
            notify_info(f"opened {', '.join(names)}")
        except EngineError as error:
            notify_error(error)

    def opened(_):
        try:
            model.load_path(path.value.strip())
            notify_info(f"opened {path.value.strip()}")
        except EngineError as error:
            notify_error(error)

    upload.param.watch(uploaded, "value")
    open_path.on_click(opened)
    help_text = pn.pane.Markdown(
        "Flavell HDF5 (+ `<uid>-labels.csv`), harmonised parquet/pickle, Kato .mat, NWB, "
        "plain CSV/NPZ (see README).", styles={"font-size": "0.85em"})
    return pn.Card(upload, help_text, path, open_path, title="Open your data", collapsed=True,
                   width=300)


def simulation_controls(model, progress) -> pn.Card:
    widgets = _widgets(model, ["sim_worms", "sim_duration_s", "sim_dt", "sim_seed"])
    run = pn.widgets.Button(label="Simulate", color="primary", sizing_mode="stretch_width")
    run.on_click(lambda _: model.simulate())
    return pn.Card(*widgets, run, progress, title="Simulated worms", collapsed=True, width=300)
