"""What a student sets in the reservoir room, each setting declared once, with its role.

A parameter's role is part of its declaration (``metadata``), and everything else is derived
from it: the room's watchers, what the simulation process is told, the view's controls and
the page's URL.

    structure   a change builds a new network (at rest)
    live        a change acts on the running network through the named ENGINE method, keeping
                its activity: ``balance = param.Number(..., metadata=live(BatchedReservoir.set_balance))``.
                Adding a live parameter is this declaration plus the engine method.
    display     what the live views show and how fast (told to the simulation process)
    task        the readout's task; sweep: the balance sweep's grid

``url_parameters`` (structure, live and task) are kept in the page's URL by the shell.
"""
from __future__ import annotations

from typing import Callable

import param

from engines.errors import InvalidInputError
from engines.reservoir.adaptation import ADAPTATION_MODES
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import BatchedReservoir
from engines.reservoir.tasks import TASKS
from lab.room import RoomModel

TOPOLOGIES = ["random", "C. elegans"]
TARGET_DISTRIBUTIONS = {"uniform": "uniform", "Beta(2, 2)": "beta", "homogeneous": "homogeneous"}
TASK_KEYS = {task.name: key for key, task in TASKS.items()}   # "memory capacity" -> "mc", ...
CONDITIONS = {"static": False, "adaptive": True}               # a sweep's conditions: adaptive or not

STRUCTURE = {"role": "structure"}
DISPLAY = {"role": "display"}
TASK = {"role": "task"}
SWEEP = {"role": "sweep"}


def live(engine_method: Callable[[BatchedReservoir, object], None]) -> dict:
    """The role of a parameter that acts on the running network through ``engine_method``."""
    return {"role": "live", "engine": engine_method}


def with_role(cls: type[param.Parameterized], *roles: str) -> list[str]:
    """Names of ``cls``'s parameters declared with one of ``roles``, in declaration order."""
    return [name for name, p in cls.param.objects().items() if (p.metadata or {}).get("role") in roles]


def live_parameters(cls: type[param.Parameterized]) -> dict[str, Callable]:
    """Each live parameter's engine method."""
    return {name: cls.param[name].metadata["engine"] for name in with_role(cls, "live")}


class ReservoirSettings(RoomModel):
    """The reservoir room's settings: its network, adaptation, live view, task and sweep."""

    # --- the network ----------------------------------------------------------------------
    topology = param.Selector(label="Network", default="random", objects=TOPOLOGIES, metadata=STRUCTURE,
                              doc="Random Dale's-law graph, or the C. elegans hermaphrodite connectome (302 neurons).")
    n = param.Integer(500, label="N (neurons)", bounds=(20, 1000), metadata=STRUCTURE,
                      doc="Number of neurons N (random network; the connectome has 302).")
    frac_excitatory = param.Number(0.8, label="Excitatory fraction", bounds=(0.5, 0.95), step=0.05,
                                   metadata=STRUCTURE, doc="Fraction of excitatory neurons (random network).")
    in_degree = param.Integer(50, label="In-degree (synapses per neuron)", bounds=(2, 200), metadata=STRUCTURE,
                              doc="Presynaptic partners per neuron, smaller than N (random network).")
    gain = param.Number(10.0, label="Gain c", bounds=(0.5, 40.0), step=0.5, metadata=live(BatchedReservoir.set_gain),
                        doc="Slope c of the sigmoid r = 1 / (1 + exp(-c V)).")
    balance = param.Number(1.0, label="Balance g = I/E", bounds=(0.0, 4.0), step=0.05,
                           metadata=live(BatchedReservoir.set_balance),
                           doc="Balance g = I/E: 1 balanced, < 1 excitation-dominated, > 1 inhibition-dominated.")
    input_scale = param.Number(0.5, label="Input scaling", bounds=(0.0, 4.0), step=0.1, metadata=STRUCTURE,
                               doc="Input weights are drawn from U[-s/2, s/2].")
    adaptation = param.Selector(label="Adaptation", default="off", objects=list(ADAPTATION_MODES),
                                metadata=live(BatchedReservoir.set_adaptation_mode),
                                doc="Local rule: each neuron's inhibition moves its rate toward its target. "
                                    "One-step: inhibition set once so the targets are a fixed point.")
    targets = param.Selector(label="Target rates", default="uniform", objects=list(TARGET_DISTRIBUTIONS),
                             metadata=STRUCTURE, doc="How the target rates rho_i are drawn.")
    target_rate = param.Number(0.2, label="Target rate (0-1)", bounds=(0.01, 0.99), step=0.01,
                               metadata=STRUCTURE, doc="Every neuron's target rate (homogeneous targets).")
    target_low = param.Number(0.05, label="Lowest target rate (0-1)", bounds=(0.01, 0.99), step=0.01,
                              metadata=STRUCTURE, doc="Targets are drawn between the lowest and the highest.")
    target_high = param.Number(0.5, label="Highest target rate (0-1)", bounds=(0.01, 0.99), step=0.01,
                               metadata=STRUCTURE, doc="Targets are drawn between the lowest and the highest.")
    seed = param.Integer(0, label="Seed", bounds=(0, 2**31 - 1), metadata=STRUCTURE,
                         doc="Seed of the network, targets and input.")

    # --- the live view --------------------------------------------------------------------
    window = param.Integer(200, label="Window (steps)", bounds=(20, 2000), metadata=DISPLAY,
                           doc="Steps shown in the live views.")
    neuron = param.Integer(0, label="Neuron shown", bounds=(0, 999), metadata=DISPLAY,
                           doc="Neuron whose input currents are shown (dashed lines).")
    speed = param.Integer(0, label="Speed limit (steps/s, 0: none)", bounds=(0, 100_000), metadata=DISPLAY,
                          doc="Steps per second at most; 0 runs as fast as the machine goes.")
    frame_rate = param.Number(12.0, label="Frame rate (frames/s)", bounds=(1.0, 30.0), metadata=DISPLAY,
                              doc="Live view updates per second.")

    # --- task and sweep -------------------------------------------------------------------
    task = param.Selector(label="Task", default="memory capacity", objects=list(TASK_KEYS), metadata=TASK,
                          doc="Benchmark task of the readout (and of the sweep).")
    sweep_balances = param.List(label="Balances g (a list)", default=[0.5, 1.0, 1.5, 2.0], item_type=(int, float),
                                metadata=SWEEP, doc="Balance values g of the sweep, e.g. [0.5, 1, 2].")
    sweep_seeds = param.Integer(5, label="Seeds", bounds=(1, 20), metadata=SWEEP,
                                doc="Seeds (networks) per point of the sweep.")
    sweep_conditions = param.ListSelector(label="Conditions", default=["static", "adaptive"], objects=list(CONDITIONS),
                                          metadata=SWEEP, doc="Static g, and/or the local rule adapting from g.")

    def reservoir_params(self, seed: int | None = None) -> ReservoirParams:
        """The engine's parameters (random network); InvalidInputError names a bad combination."""
        n = self.n
        if self.topology == "random" and self.in_degree >= n:
            raise InvalidInputError(f"the in-degree ({self.in_degree}) must be smaller than N ({n})")
        return ReservoirParams(n=n, frac_excitatory=self.frac_excitatory, in_degree=min(self.in_degree, n - 1),
                               gain=self.gain, input_scale=self.input_scale, balance=self.balance,
                               seed=self.seed if seed is None else seed)

    def adaptation_params(self) -> AdaptationParams:
        if self.target_low > self.target_high:
            raise InvalidInputError(f"the lowest target rate ({self.target_low}) is above the highest ({self.target_high})")
        return AdaptationParams(targets=TARGET_DISTRIBUTIONS[self.targets], target_rate=self.target_rate,
                                target_low=self.target_low, target_high=self.target_high)

    @property
    def task_key(self) -> str:
        return TASK_KEYS[self.task]


ReservoirSettings.url_parameters = tuple(with_role(ReservoirSettings, "structure", "live", "task"))
LIVE = live_parameters(ReservoirSettings)
