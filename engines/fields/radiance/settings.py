"""Each family's settings for radiance fields, read from its declaration (``family.Family``).

A family declares the radiance task beside its image and shape ones
(``radiance=TaskDeclaration(recipe, architecture)`` in its module, e.g. engines/fields/gnf.py):
the learning rate, rays per step (the recipe's ``batch_size``) and samples per ray were chosen by
the recorded sweep ``python -m benchmarks.radiance --tune`` (benchmarks/radiance_tuning.json: the
same grid of settings for every family on a tuning scene that is not in the benchmark); the
optimiser kind and schedule are its shape ones. A family that declares none takes its shape
architecture and optimiser with ``family.FALLBACK_RAYS`` rays. Flatland (2-D scenes) uses the
family's image architecture with the same recipe.
"""
from __future__ import annotations

from ..family import RADIANCE, Recipe
from ..registry import FAMILIES, family

GENERIC = Recipe(lr=1e-3, batch_size=1024)  # a field no family declares


def radiance_recipe(name: str) -> Recipe:
    """The declared radiance recipe of family ``name`` (GENERIC for an undeclared field)."""
    return family(name).recipe(RADIANCE) if name in FAMILIES else GENERIC


def radiance_architecture(name: str, dim: int = 3) -> dict:
    """The declared architecture knobs of family ``name`` for ``dim``-D radiance fields."""
    return dict(family(name).architecture(RADIANCE if dim == 3 else "image"))


def radiance_defaults(name: str) -> dict:
    """Every knob family ``name`` takes for radiance fields with its default (the room's), plus
    ``samples_per_ray``: what ``registry.defaults(name, "radiance")`` gives, batch size in rays."""
    declared = family(name)
    return {**declared.architecture(RADIANCE), **declared.live(RADIANCE),
            "samples_per_ray": declared.recipe(RADIANCE).samples_per_ray}
