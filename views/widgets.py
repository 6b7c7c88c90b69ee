"""Widgets for a room model's parameters, made the same way in every room.

    param_widget(model, "learning_rate")              # label with unit, doc as tooltip
    param_widget(model, "task", pn.widgets.RadioButtonGroup)
    show_when(widget, model, ["model"], lambda m: m == "neurbf")   # only where it applies

A parameter's label carries its unit (``param.Number(label="Resample dt (s)")``) and its doc
is the widget's tooltip. A number whose bounds span orders of magnitude gets a numeric box rather
than a linear slider (on a slider from 1 to 16,384 one pixel is 30 kernels, so nobody can aim at
256); so does an integer seed.
"""
from __future__ import annotations

from typing import Callable, Sequence

import panel as pn
import param

WIDE_RANGE = 100.0   # bounds whose ratio (or span, for integers) reaches this get a numeric box


def _spans_orders_of_magnitude(parameter: param.Parameter) -> bool:
    bounds = getattr(parameter, "bounds", None)
    if not bounds or None in bounds:
        return isinstance(parameter, param.Integer) and not isinstance(parameter, param.Boolean)
    low, high = bounds
    if isinstance(parameter, param.Integer):
        return high - low >= 10 * WIDE_RANGE or (low > 0 and high / low >= WIDE_RANGE)
    return low > 0 and high / low >= WIDE_RANGE


def default_widget_type(parameter: param.Parameter):
    """The widget class for ``parameter``; None leaves Panel's own choice."""
    if isinstance(parameter, param.Boolean):
        return pn.widgets.Checkbox
    if isinstance(parameter, param.Integer) and _spans_orders_of_magnitude(parameter):
        return pn.widgets.IntInput
    if isinstance(parameter, param.Number) and _spans_orders_of_magnitude(parameter):
        return pn.widgets.FloatInput
    return None


def param_widget(model: param.Parameterized, name: str, widget_type=None, **options) -> pn.widgets.Widget:
    """The widget bound to ``model.param[name]`` (two-way), stretched to its column by default."""
    parameter = model.param[name]
    options.setdefault("sizing_mode", "stretch_width")
    kind = widget_type or default_widget_type(parameter)
    spec = {"type": kind, **options} if kind is not None else options
    widget = pn.Param(parameter, widgets={name: spec}, show_name=False)[0]
    if parameter.doc and not getattr(widget, "description", None) and "description" in widget.param:
        widget.description = parameter.doc
    return widget


def param_widgets(model: param.Parameterized, names: Sequence[str], kinds: dict | None = None,
                  **options) -> dict[str, pn.widgets.Widget]:
    """``param_widget`` for each name (``kinds`` maps a name to its widget class)."""
    kinds = kinds or {}
    return {name: param_widget(model, name, kinds.get(name), **options) for name in names}


def show_when(viewable, model: param.Parameterized, names: Sequence[str], applies: Callable[..., bool]):
    """Show ``viewable`` only while ``applies(*values of names)`` holds; returns it."""
    def update(*_events) -> None:
        viewable.visible = bool(applies(*(getattr(model, name) for name in names)))
    model.param.watch(update, list(names))
    update()
    return viewable
