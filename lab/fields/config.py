"""What the room asks a field to be: a family and the knob values chosen for it.

Each family's declaration (``engines.fields.registry``) supplies every knob the room leaves
unset and says which knobs the family takes; ``FieldConfig`` keeps only those.
"""
from __future__ import annotations

from engines.errors import InvalidInputError
from engines.fields.family import KNOBS, TRAINING_KNOBS, task_of
from engines.fields.rbf import NeuRBF
from engines.fields.registry import FAMILIES, build_field, family

MODELS = {name: f.label for name, f in FAMILIES.items()}


class FieldConfig:
    """A family and the knob values chosen for it; knobs not given take the family's defaults
    for the task, knobs the family does not take are dropped (a room may pass all of its knobs).

    ``FieldConfig("grid_mlp", seed=3, grid_resolution=16)``. Equal configs build equal fields.
    """

    def __init__(self, model: str = "gnf", seed: int = 0, **knobs):
        takes = family(model).knobs()  # InvalidInputError for an unknown family
        unknown = set(knobs) - set(KNOBS)
        if unknown:
            raise InvalidInputError(f"unknown field setting(s) {', '.join(sorted(unknown))}")
        self.model, self.seed = model, int(seed)
        self.knobs = {k: KNOBS[k].check(v) for k, v in sorted(knobs.items())
                      if k in takes and k not in TRAINING_KNOBS}

    def _key(self) -> tuple:
        return self.model, self.seed, tuple(sorted(self.knobs.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, FieldConfig) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        knobs = "".join(f", {k}={v!r}" for k, v in self.knobs.items())
        return f"FieldConfig({self.model!r}, seed={self.seed}{knobs})"

    def __getstate__(self) -> dict:  # plain values: configs travel to the worker and into checkpoints
        return self.as_dict()

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def as_dict(self) -> dict:
        return {"model": self.model, "seed": self.seed, **self.knobs}

    def architecture(self) -> "FieldConfig":
        """The same config without its live knobs (they change a run, not its field)."""
        return FieldConfig(self.model, self.seed, **{k: v for k, v in self.knobs.items() if not KNOBS[k].live})

    def values(self, task: str) -> dict:
        """Every knob of the family for ``task``: the chosen ones, the family's defaults for the rest."""
        f = family(self.model)
        return {**f.architecture(task), **{k: v for k, v in f.live(task).items() if k not in TRAINING_KNOBS},
                **self.knobs}

    def build(self, in_dim: int, out_dim: int):
        """The engine field these settings describe (seeded)."""
        task = task_of(in_dim)
        values = self.values(task)
        live = {k for k in values if KNOBS[k].live}
        field = build_field(self.model, in_dim, out_dim, seed=self.seed,
                            **{k: v for k, v in values.items() if k not in live})
        if values.get("adaptive") and isinstance(field, NeuRBF):
            field.rbf.set_adaptive(True)
        return field
