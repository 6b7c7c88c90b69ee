"""Every field family, collected from the declarations beside their modules (``family.Family``).

A field is an ``nn.Module`` mapping coordinates (N, in_dim) in [-1, 1] to values (N, out_dim).
``build_field(name, in_dim, out_dim, param_budget=None)`` builds one from its family's defaults
for the task (image for 2-D, shape for 3-D) and any knobs given; with a ``param_budget`` the
family's size knob takes the largest value whose parameter count fits (bisection, counting on
torch's meta device so that no memory is allocated while searching), the other knobs fixed.

For a room or a benchmark: ``family(name)``, ``recipe(name, task)`` (tuned learning rate, batch
size, schedule, loss), ``defaults(name, task)`` (every knob's default, live ones included) and
``knob_table()`` (each knob with the families it applies to) are all read from the declarations;
``count_params(name, in_dim, out_dim, **knobs)`` counts a configuration's parameters in
milliseconds without building it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..errors import InvalidInputError
from . import baselines, gnf, mlp, nerf_mlp, neurbf
from .family import KNOBS, TASKS, Family, Knob, Recipe, task_of

DECLARING_MODULES = (gnf, neurbf, baselines, nerf_mlp, mlp)  # a module declaring families lists them in FAMILIES

FAMILIES: dict[str, Family] = {f.name: f for f in sorted((f for m in DECLARING_MODULES for f in m.FAMILIES),
                                                         key=lambda f: f.order)}
FIELD_NAMES = tuple(FAMILIES)
RBF_FIELDS = tuple(n for n, f in FAMILIES.items() if f.rbf)


def family(name: str) -> Family:
    """The declaration of family ``name`` (InvalidInputError for an unknown one)."""
    if name not in FAMILIES:
        raise InvalidInputError(f"unknown field {name!r}; choose one of {', '.join(FIELD_NAMES)}")
    return FAMILIES[name]


def recipe(name: str, task: str) -> Recipe:
    """The tuned training recipe of family ``name`` for ``task`` ("image" or "shape")."""
    return family(name).recipe(task)


def defaults(name: str, task: str) -> dict:
    """Every knob family ``name`` takes, with its default for ``task`` (training knobs from the recipe)."""
    f = family(name)
    return {**f.architecture(task), **f.live(task)}


@dataclass(frozen=True)
class KnobUse:
    """A knob as a room shows it: its meaning, the families that take it, their defaults."""
    knob: Knob
    families: tuple                   # family names, in FIELD_NAMES order
    defaults: dict                    # family -> {task: default}

    def default(self, name: str, task: str):
        return self.defaults[name][task]


def knob_table() -> tuple[KnobUse, ...]:
    """Every knob any family takes, in ``KNOBS`` order, with who takes it and the defaults."""
    uses = []
    for knob in KNOBS.values():
        takers = tuple(n for n, f in FAMILIES.items() if knob.name in f.knobs())
        if takers:
            uses.append(KnobUse(knob, takers, {n: {t: defaults(n, t).get(knob.name) for t in TASKS}
                                               for n in takers}))
    return tuple(uses)


def param_count(module: nn.Module) -> int:
    """Trainable and frozen parameters (NeuRBF's frozen kernels still cost memory)."""
    return sum(p.numel() for p in module.parameters())


def architecture_for(name: str, in_dim: int, **given) -> dict:
    """The family's architecture knobs for the task of ``in_dim``, overridden by ``given`` (checked)."""
    f = family(name)
    arch = f.architecture(task_of(in_dim))
    takes = set(f.defaults[task_of(in_dim)])
    unknown = set(given) - takes
    if unknown:
        raise InvalidInputError(f"{name} has no size {', '.join(sorted(unknown))}; it takes "
                                f"{', '.join(sorted(takes))}")
    return {**arch, **{k: KNOBS[k].check(v) for k, v in given.items()}}


class _ShapesOnly(TorchFunctionMode):
    """Skips the random fills of parameters built on the meta device only to be counted: torch
    runs in-place fills of meta tensors through Python reference code (~50 ms each), which made
    one count of GNF take seconds (fieldsroom measured it); skipped, a count takes milliseconds."""
    FILLS = {torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.fill_, torch.Tensor.zero_}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.FILLS:
            return args[0]
        return func(*args, **(kwargs or {}))


def _count(f: Family, in_dim: int, out_dim: int, architecture: dict) -> int:
    with _ShapesOnly(), torch.device("meta"):  # shapes only: nothing is allocated or filled
        return param_count(f.build(in_dim, out_dim, **architecture))


def count_params(name: str, in_dim: int, out_dim: int, **architecture) -> int:
    """Parameters of family ``name`` with ``architecture`` knobs (defaults for the rest), counted
    without building the field: milliseconds, no memory (what a room shows beside a model)."""
    return _count(family(name), in_dim, out_dim, architecture_for(name, in_dim, **architecture))


def knob_for_budget(name: str, in_dim: int, out_dim: int, budget: int, **architecture) -> int:
    """The largest size knob that fits ``budget`` with the other ``architecture`` knobs fixed."""
    f = family(name)
    arch = architecture_for(name, in_dim, **architecture)
    lo, hi = KNOBS[f.size].bounds

    def fits(value: int) -> bool:
        return _count(f, in_dim, out_dim, {**arch, f.size: value}) <= budget

    if not fits(lo):
        raise InvalidInputError(f"{name} needs more than {budget:,} parameters even at its smallest size")
    while lo < hi:  # largest size with count <= budget
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def build_field(name: str, in_dim: int, out_dim: int, param_budget: int | None = None,
                knob: int | None = None, seed: int | None = None, **architecture) -> nn.Module:
    """Build a field by name; it gets ``.name``, ``.knob`` (its size knob's value), ``.size_knob``
    and ``.param_count`` attributes.

    ``architecture`` sets knobs the family takes (``family(name).knobs()``); the others take the
    family's defaults for the task. ``knob`` sets the size knob; with ``param_budget`` the size
    knob is fitted to the budget around the other knobs.
    """
    f = family(name)
    if in_dim not in (2, 3) or out_dim < 1:
        raise InvalidInputError(f"fields map 2-D or 3-D coordinates to >= 1 value, got {in_dim} -> {out_dim}")
    arch = architecture_for(name, in_dim, **architecture)
    if knob is not None:
        arch[f.size] = KNOBS[f.size].check(knob)
    elif param_budget is not None:
        given = {k: v for k, v in architecture.items() if k != f.size}
        arch[f.size] = knob_for_budget(name, in_dim, out_dim, int(param_budget), **given)
    if seed is not None:
        torch.manual_seed(seed)
    field = f.build(in_dim, out_dim, **arch)
    field.name, field.knob, field.size_knob, field.param_count = name, arch[f.size], f.size, param_count(field)
    field.architecture = arch
    return field
