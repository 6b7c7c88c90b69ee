"""The room's knobs, derived from the field families' declarations (``engines.fields.registry``).

Every knob any family takes becomes one parameter of ``FieldsRoom``: its label (with its unit),
bounds, doc and default come from the knob's declaration, the default value from the default
family. Which knobs a model takes for a task, their tuned defaults and the parameter count of a
configuration are read from the declarations too, so adding a family changes nothing here.

The knobs a user changed away from the model's declared defaults travel as one text,
``"n_kernels:256,top_k:8"`` (``encode`` / ``decode``): the room keeps it in the page's URL, so a
link restores the model and exactly the knobs that were changed.
"""
from __future__ import annotations

import functools

import param
import torch
from torch.overrides import TorchFunctionMode

from engines.errors import InvalidInputError
from engines.fields.family import KNOBS, Knob, task_of
from engines.fields.radiance.settings import radiance_defaults
from engines.fields.registry import FAMILIES, build_field, defaults, family, knob_for_budget, knob_table

DEFAULT_MODEL, DEFAULT_TASK = next(iter(FAMILIES)), "image"
# the room's tasks -> the families' declared task whose architecture they use: a radiance field is
# a 3-D field (the shape task's architecture), flatland's a 2-D one (the image task's); both take
# their learning rate, rays per step and architecture overrides from the radiance declaration
FIELD_TASK = {"image": "image", "shape": "shape", "radiance": "shape", "flatland": "image"}
RADIANCE_TASKS = ("radiance", "flatland")
MAX_PARAMETERS = 20_000_000   # larger fields would take the server's memory; they are refused
KNOB_NAMES = tuple(use.knob.name for use in knob_table())


def model_choices() -> dict[str, str]:
    """Label -> family name, RBF fields first (the declarations' order)."""
    return {f.label: name for name, f in FAMILIES.items()}


def short_label(model: str) -> str:
    """'GNF (Gaussian RBF network)' -> 'GNF': what titles and legends have room for."""
    return family(model).label.split(" (")[0]


def label_with_unit(knob: Knob) -> str:
    return f"{knob.label} ({knob.unit})" if knob.unit else knob.label


def _parameter(knob: Knob, default) -> param.Parameter:
    common = dict(default=default, label=label_with_unit(knob), doc=knob.doc)
    if knob.kind is bool:
        return param.Boolean(**common)
    if knob.kind is str:
        return param.Selector(objects=list(knob.choices), **common)
    kind = param.Integer if knob.kind is int else param.Number
    return kind(bounds=knob.bounds, **common)


def knob_parameters() -> dict[str, param.Parameter]:
    """One parameter per knob, defaulting to the default model's value (else the first taker's)."""
    parameters = {}
    for use in knob_table():
        owner = DEFAULT_MODEL if DEFAULT_MODEL in use.families else use.families[0]
        parameters[use.knob.name] = _parameter(use.knob, use.default(owner, DEFAULT_TASK))
    return parameters


def applies(name: str, model: str, task: str) -> bool:
    """Whether ``model`` takes knob ``name`` for ``task`` (a widget is shown only then)."""
    return name in family(model).knobs(FIELD_TASK[task])


def taken(model: str, task: str) -> dict:
    """The knobs ``model`` takes for ``task`` with their declared (tuned) defaults."""
    values = defaults(model, FIELD_TASK[task])
    if task in RADIANCE_TASKS:   # the radiance declaration's knobs; its batch counts rays
        declared = radiance_defaults(model)
        values = {**values, **{name: value for name, value in declared.items() if name in values}}
    return values


def size_knob(model: str) -> str:
    """The knob that scales ``model`` with a parameter budget."""
    return family(model).size


# ---- the changed knobs as one text -----------------------------------------------------------
def encode(values: dict, model: str, task: str) -> str:
    """The knobs in ``values`` that differ from ``model``'s defaults for ``task``, as text."""
    declared = taken(model, task)
    return ",".join(f"{name}:{values[name]}" for name in declared
                    if name in values and values[name] != declared[name])


def _value(knob: Knob, text: str):
    if knob.kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise InvalidInputError(f"{knob.label} must be true or false, got {text!r}")
        return text.lower() in ("true", "1")
    return knob.check(text)


def decode(text: str, model: str, task: str) -> tuple[dict, list[str]]:
    """(knob values, problems) from ``encode``'s text; entries the model does not take or that
    do not fit their knob are left out and named in the problems."""
    values, problems = {}, []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, _, raw = entry.partition(":")
        if name not in KNOBS or not applies(name, model, task):
            problems.append(f"{name} (not a setting of {short_label(model)})")
            continue
        try:
            values[name] = _value(KNOBS[name], raw)
        except InvalidInputError as error:
            problems.append(str(error))
    return values, problems


# ---- sizes -----------------------------------------------------------------------------------
class _ShapesOnly(TorchFunctionMode):
    """Skips parameter initialisation while fields are built on the meta device to be counted:
    torch runs in-place random fills of meta tensors through its Python reference code (~50 ms
    each), which made one count of GNF take seconds; skipped, it takes milliseconds."""
    FILLS = {torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.fill_, torch.Tensor.zero_}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.FILLS:
            return args[0]
        return func(*args, **(kwargs or {}))


def _architecture(model: str, in_dim: int, knobs: dict) -> dict:
    live = {n for n in knobs if KNOBS[n].live}
    takes = set(family(model).defaults[task_of(in_dim)])
    return {n: v for n, v in knobs.items() if n in takes and n not in live}


@functools.lru_cache(maxsize=256)
def _count(model: str, in_dim: int, out_dim: int, architecture: tuple) -> int:
    with _ShapesOnly(), torch.device("meta"):  # shapes only: nothing is allocated or filled
        return build_field(model, in_dim, out_dim, **dict(architecture)).param_count


def parameter_count(model: str, in_dim: int, out_dim: int, knobs: dict) -> int:
    """Parameters of ``model`` with these knobs (the others at their defaults) on a target
    mapping ``in_dim`` coordinates to ``out_dim`` values."""
    return _count(model, in_dim, out_dim, tuple(sorted(_architecture(model, in_dim, knobs).items())))


@functools.lru_cache(maxsize=64)
def _fitted(model: str, in_dim: int, out_dim: int, budget: int, architecture: tuple) -> int:
    with _ShapesOnly():  # the registry counts on the meta device too
        return knob_for_budget(model, in_dim, out_dim, budget, **dict(architecture))


def fit_to_budget(model: str, in_dim: int, out_dim: int, budget: int, knobs: dict) -> dict:
    """``knobs`` with ``model``'s size knob set to the largest value within ``budget``."""
    size = size_knob(model)
    others = {n: v for n, v in _architecture(model, in_dim, knobs).items() if n != size}
    return {**knobs, size: _fitted(model, in_dim, out_dim, int(budget), tuple(sorted(others.items())))}


def check_size(model: str, count: int) -> None:
    if count > MAX_PARAMETERS:
        raise InvalidInputError(f"{short_label(model)} at these settings has {count:,} parameters; "
                                f"this lab trains fields of up to {MAX_PARAMETERS:,}")
