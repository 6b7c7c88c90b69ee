"""How a field family is declared: once, beside its module, and read by everything else.

A ``Family`` says how to build the field, which knobs it takes (``KNOBS`` gives every knob one
meaning: label, bounds, log scale, unit, doc, live or architecture), its default for each knob
per task, the one ``size`` knob that scales with a parameter budget, and a tuned ``Recipe``
(learning rate, batch size, schedule, loss) per task. ``registry`` collects the declarations;
``build_field``, the ``Trainer``'s defaults, the room (``lab.fields``) and ``benchmarks.fields``
read them from there. Adding a family is its module plus one ``Family`` in that module's
``FAMILIES`` tuple.

Tasks: "image" (2-D coordinates) and "shape" (3-D coordinates, a signed distance); and
"radiance" (a 3-D field trained through rays from posed images, engines.fields.radiance): a
family declares it with ``radiance=TaskDeclaration(recipe, architecture)`` (its recipe's
batch size counts rays, ``samples_per_ray`` the samples along each; ``architecture`` the knobs
that differ from its shape ones); ``defaults["radiance"]`` and ``recipes["radiance"]`` are then
there like the other tasks'.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InvalidInputError

TASKS = ("image", "shape")             # the fields room's tasks (a knob's defaults are shown for these)
RADIANCE = "radiance"                  # radiance fields: built on the shape task's declaration
FALLBACK_RAYS = 1024                   # rays per step of a family that declares no radiance recipe


def task_of(in_dim: int) -> str:
    """The task a field of ``in_dim`` input coordinates serves."""
    return "image" if in_dim == 2 else "shape"


@dataclass(frozen=True)
class Knob:
    """One setting a user can change: what a room shows as a widget, and its meaning."""
    name: str                      # the build keyword and the room's parameter name
    label: str
    kind: type                     # int, float, bool or str
    bounds: tuple | None = None    # (low, high) for numbers
    log: bool = False              # a log-scale slider suits it (sizes, rates)
    unit: str = ""
    doc: str = ""
    live: bool = False             # applies while training; else it is architecture (a new field)
    choices: tuple = ()            # for str knobs

    def check(self, value):
        """``value`` converted to the knob's kind; InvalidInputError when it does not fit."""
        try:
            value = bool(value) if self.kind is bool else self.kind(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{self.label} must be a {self.kind.__name__}, got {value!r}") from None
        if self.choices and value not in self.choices:
            raise InvalidInputError(f"{self.label} must be one of {', '.join(map(str, self.choices))}, "
                                    f"got {value!r}")
        if self.bounds and not (self.bounds[0] <= value <= self.bounds[1]):
            raise InvalidInputError(f"{self.label} must lie in [{self.bounds[0]}, {self.bounds[1]}], got {value}")
        return value


def _knobs(*knobs: Knob) -> dict[str, Knob]:
    return {k.name: k for k in knobs}


KNOBS = _knobs(
    # training: every family takes these, live; their defaults come from the family's Recipe
    Knob("learning_rate", "Learning rate", float, (1e-5, 1.0), True, "", "Adam's base learning rate "
         "(a family may scale it per parameter group); can be changed while training.", live=True),
    Knob("batch_size", "Batch size", int, (64, 1 << 18), True, "samples",
         "Random pixels or SDF samples per step; can be changed while training.", live=True),
    # architecture
    Knob("grid_resolution", "Finest grid resolution", int, (2, 4096), True, "nodes per side",
         "Nodes per side of the finest feature grid; coarser levels are smaller."),
    Knob("grid_levels", "Grid levels", int, (1, 16), doc="Feature grids of increasing resolution."),
    Knob("grid_channels", "Channels per grid level", int, (1, 16), doc="Features stored per grid node."),
    Knob("n_kernels", "Kernels", int, (1, 1 << 20), True, "",
         "GNF: Gaussian units in feature space. NeuRBF: kernels placed in the image or volume."),
    Knob("top_k", "Kernels per point", int, (1, 32), doc="NeuRBF: nearest kernels each point reads."),
    Knob("kernel", "Kernel", str, doc="NeuRBF's radial function: inverse quadratic with a full shape "
         "matrix (its images) or the separable hat (its SDFs).", choices=("inverse_quadratic", "hat", "gaussian")),
    Knob("rbf_channels", "Channels per kernel", int, (1, 128), doc="NeuRBF: weights per kernel, one per "
         "sinusoid frequency."),
    Knob("table_size", "Hash table size", int, (16, 1 << 24), True, "entries per level",
         "Instant-NGP: entries of each level's hash table."),
    Knob("width", "Width", int, (4, 4096), True, "neurons", "Neurons per hidden layer."),
    Knob("sawtooth", "Periodic grids", bool, doc="GNF: read each grid through a sawtooth (periodic) "
         "coordinate mapping, so a small grid tiles the domain at several frequencies."),
    Knob("adaptive", "Adaptive kernels", bool, live=True,
         doc="NeuRBF: kernel centres and shapes keep learning (NeuRBF itself freezes them)."),
)
TRAINING_KNOBS = ("learning_rate", "batch_size")


@dataclass(frozen=True)
class Recipe:
    """Training settings for one task, chosen by the recorded sweep (benchmarks/fields_tuning.json)."""
    lr: float
    batch_size: int
    schedule: str = "exp"             # "exp": hold, then exponential decay; "cosine": cosine decay
    final_lr_ratio: float = 0.1       # the rate at the end of the schedule, relative to lr
    hold: float = 0.6                 # "exp": share of the steps at the full rate
    loss: str = "mse"                 # images: "mse" or "l1"; shapes always use NeuRBF's relative L1
    lr_scale: tuple = ()              # ((group, factor), ...): per-group rates relative to lr
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    samples_per_ray: int = 128        # radiance: stratified samples along a ray (batch_size counts rays)

    def lr_at(self, progress: float) -> float:
        """The schedule's factor (times lr) at ``progress`` in [0, 1] of the planned steps."""
        p = min(max(progress, 0.0), 1.0)
        if self.schedule == "cosine":
            return self.final_lr_ratio + (1 - self.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p))
        return self.final_lr_ratio ** min(max((p - self.hold) / max(1 - self.hold, 1e-9), 0.0), 1.0)


@dataclass(frozen=True)
class TaskDeclaration:
    """A family's settings for a task built on another one (radiance on shape): the learning
    rate, batch size and samples per ray that replace the base task's (its optimiser and
    schedule are kept), and the architecture knobs that differ from the base task's defaults."""
    lr: float
    batch_size: int
    samples_per_ray: int = 128
    architecture: dict = field(default_factory=dict)
    base: str = "shape"

    def recipe(self, base: Recipe) -> Recipe:
        return dataclasses.replace(base, lr=self.lr, batch_size=self.batch_size,
                                   samples_per_ray=self.samples_per_ray, loss="mse")


@dataclass(frozen=True)
class Family:
    """One field family: everything the lab needs to know about it, in one place."""
    name: str
    label: str
    build: Callable                   # (in_dim, out_dim, **architecture knobs) -> nn.Module
    size: str                         # the architecture knob that scales with a parameter budget
    defaults: dict                    # task -> {knob: value}: every architecture and live knob it takes
    recipes: dict                     # task -> Recipe
    rbf: bool = False
    doc: str = ""
    order: int = 100                  # where it is listed (RBF fields first)
    tuned_by: str = "benchmarks/fields_tuning.json"
    extra: dict = field(default_factory=dict)  # free-form notes (e.g. where it departs from its paper)
    radiance: TaskDeclaration | None = None  # None: the shape task's architecture and optimiser

    def __post_init__(self):
        """The radiance task's entries join ``defaults`` and ``recipes``, so that it is read the
        same way as the others (``architecture``, ``live``, ``recipe``, registry.defaults)."""
        declared = self.radiance or TaskDeclaration(self.recipes["shape"].lr, FALLBACK_RAYS)
        self.defaults.setdefault(RADIANCE, {**self.defaults[declared.base], **declared.architecture})
        self.recipes.setdefault(RADIANCE, declared.recipe(self.recipes[declared.base]))

    def knobs(self, task: str | None = None) -> tuple[str, ...]:
        """Names of the knobs it takes (training knobs included)."""
        names = set(TRAINING_KNOBS)
        for t in ([task] if task else TASKS):
            names |= set(self.defaults[t])
        return tuple(n for n in KNOBS if n in names)

    def architecture(self, task: str) -> dict:
        """Default architecture knob values for ``task`` (live knobs excluded)."""
        return {k: v for k, v in self.defaults[task].items() if not KNOBS[k].live}

    def live(self, task: str) -> dict:
        """Default values of its live knobs for ``task``, the training ones from the recipe."""
        recipe = self.recipes[task]
        return {"learning_rate": recipe.lr, "batch_size": recipe.batch_size,
                **{k: v for k, v in self.defaults[task].items() if KNOBS[k].live}}

    def recipe(self, task: str) -> Recipe:
        return self.recipes[task]
