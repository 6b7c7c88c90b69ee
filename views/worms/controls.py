"""The room's side panel: dataset, worm, ordering, neurons (search, traces, colouring),
preprocessing, simulation, and files to open (upload or a path on the server)."""
from __future__ import annotations

import panel as pn

from engines.errors import EngineError
from lab.recordings import ACCEPT, FORMATS_TEXT
from lab.uploads import limit_text
from lab.worms.simulation_settings import SPECS
from views.errors import notify_error, notify_info
from views.widgets import param_widget, param_widgets, show_when

CARD = dict(sizing_mode="stretch_width", margin=(5, 5))


def labelled(widget) -> pn.Column:
    """A button group with its label above it (button groups show no label of their own)."""
    text = pn.pane.Markdown(widget.name, margin=(0, 10, -10, 10), styles={"font-size": "0.9em"})
    column = pn.Column(text, widget, sizing_mode=widget.sizing_mode, margin=0)
    widget.param.watch(lambda event: setattr(column, "visible", event.new), "visible")
    return column


def dataset_controls(model) -> pn.Column:
    w = param_widgets(model, ["dataset", "worm", "order", "compare_worms"],
                      {"order": pn.widgets.RadioButtonGroup, "compare_worms": pn.widgets.MultiChoice})
    return pn.Column(w["dataset"], w["worm"], labelled(w["order"]), w["compare_worms"],
                     sizing_mode="stretch_width")


def neuron_controls(model) -> pn.Column:
    """Search by name or class (Enter or the button adds the first match); the traces shown;
    what the neurons are coloured by in the heatmap strip, the 3D view and the replay."""
    search = param_widget(model, "query", pn.widgets.TextInput, placeholder="e.g. AVA, RIML, VB")
    add = pn.widgets.Button(label="Add trace", button_type="primary", sizing_mode="stretch_width")
    matches = pn.pane.Markdown("", margin=(0, 10), css_classes=["neuron-matches"])
    picked = param_widget(model, "selected", pn.widgets.MultiChoice, options=[])
    colour = param_widget(model, "colour_by", pn.widgets.RadioButtonGroup)
    reference = show_when(param_widget(model, "reference", pn.widgets.AutocompleteInput, options=[],
                                       restrict=False, min_characters=1, case_sensitive=False,
                                       search_strategy="includes"),
                          model, ["colour_by"], lambda mode: mode == "correlation")

    def show_matches(*_):
        found = model.matches
        matches.object = ("matches: " + ", ".join(found[:12]) + (" ..." if len(found) > 12 else "")
                          if found else ("no identified neuron matches" if model.query.strip() else ""))

    def refresh_options(*_):
        rec = model.recording
        picked.options = sorted(rec.labelled_columns()) if rec is not None else []
        reference.options = model.reference_options() if rec is not None else []

    def add_first(*_):
        if model.query.strip():
            model.add_neuron(model.query)  # errors reach the shell's notification handler

    # matches show while the user types (value_input), not only once Enter or a blur commits it
    search.param.watch(lambda event: setattr(model, "query", event.new or ""), "value_input")
    model.param.watch(show_matches, ["matches", "query"])
    model.param.watch(refresh_options, "recording")
    add.on_click(add_first)
    search.param.watch(add_first, "enter_pressed")
    refresh_options()
    return pn.Column(search, add, matches, picked, labelled(colour), reference, sizing_mode="stretch_width")


def preprocessing_controls(model) -> pn.Card:
    w = param_widgets(model, ["resample_dt", "smoothing", "smoothing_window", "smoothing_sigma_s",
                              "derivative", "normalisation", "merge_bilateral"],
                      {"normalisation": pn.widgets.RadioButtonGroup})
    show_when(w["smoothing_window"], model, ["smoothing"], lambda s: s == "causal moving average")
    show_when(w["smoothing_sigma_s"], model, ["smoothing"], lambda s: s == "gaussian")
    w["normalisation"] = labelled(w["normalisation"])
    return pn.Card(*w.values(), title="Preprocessing", collapsed=False, css_classes=["secondary"], **CARD)


def _shaping_controls(settings) -> list:
    """A widget per shaping parameter (its label carries the unit) with its one-line explanation."""
    out = []
    for name, spec in SPECS.items():
        out.append(param_widget(settings, name))
        out.append(pn.pane.Markdown(spec.doc, margin=(-8, 10, 4, 10), sizing_mode="stretch_width",
                                    styles={"font-size": "0.8em", "color": "#555"}))
    return out


def simulation_controls(model, progress) -> pn.Card:
    widgets = param_widgets(model, ["sim_worms", "sim_duration_s", "sim_dt", "sim_seed"])
    run = pn.widgets.Button(label="Simulate", button_type="primary", sizing_mode="stretch_width")
    run.on_click(lambda _: model.simulate())
    note = pn.pane.Markdown("A rate model on the real connectome (engines/worms/simulate.py); "
                            "every trace it makes is labelled SIMULATED.", styles={"font-size": "0.85em"})
    shaping = pn.pane.Markdown("**What shapes the statistics** (slowness, shared modes, "
                               "reversals; compared with real recordings by "
                               "`python -m benchmarks.worms`)", sizing_mode="stretch_width")
    return pn.Card(note, *widgets.values(), shaping, *_shaping_controls(model.sim_settings), run, progress,
                   title="Simulated worms", collapsed=True, css_classes=["secondary"], **CARD)


def file_controls(model) -> pn.Card:
    """Open files by upload (with its labels CSV for Flavell HDF5) or by path in the data folder."""
    upload = pn.widgets.FileInput(accept=ACCEPT, multiple=True, sizing_mode="stretch_width")
    path = pn.widgets.TextInput(name="Path in the lab's data folder", placeholder="folder/ or file.h5",
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
    help_text = pn.pane.Markdown(f"{FORMATS_TEXT}; {limit_text()} per upload (see README).",
                                 styles={"font-size": "0.85em"})
    return pn.Card(upload, help_text, path, open_path, title="Open your data", collapsed=True, **CARD)
