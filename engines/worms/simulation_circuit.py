"""Who listens to which behavioural latent: the simulated worms' functional circuit (ground truth).

Latents (engines.worms.simulation_latents), each scaled to about [-1, 1] or unit variance:
    command   +1 while reversing, -1 while moving forward
    arousal   slow roaming (+) / dwelling (-) state
    head      head bending: the head-swing rhythm plus slow steering (positive: ventral)
    feeding   slow feeding state
    salt, oxygen   +1 during their stimulus pulse, -1 otherwise

``MODULES`` are the planted functional modules whose loadings are fixed by known biology:
the reversal command interneurons and A-type motor neurons rise during reversals and with low
arousal; the forward ones (AVB, RIB, B-type motor neurons) do the opposite (Kato et al. 2015;
Kaplan et al. 2020), the motor neurons taking only a small share of the arousal drive so that
a reversal moves the worm backwards in any state; ventral and dorsal head motor neurons (SMDV/RMDV, SMDD/RMDD) follow the
head swing in antiphase (Hendricks et al. 2012; Kaplan et al. 2020); sensory neurons follow
their stimulus; the pharynx follows feeding and pauses during reversals.

Every other neuron encodes one latent with probability ``encoding_fraction`` (mostly the
command, arousal, head or feeding; a few interneurons a stimulus), with a random sign and
strength, integrated over its own timescale (log-uniform from ``encoding_tau_min_s`` to
``encoding_tau_max_s``): the picture of Atanas et al. 2023, where most neurons encode
velocity, head curvature or feeding over timescales from seconds to minutes. A share
``wiring_share`` of each such encoding is taken from the neuron's synaptic partners (Cook
2019), so wired neurons encode alike: in real recordings gap-junction partners correlate more
than chemical partners, and those more than unconnected pairs (benchmarks.worms measures it).
These encodings are drawn from a fixed stream, so a neuron has the same role in every worm and
every seed.
"""
from __future__ import annotations

import functools

import numpy as np

from engines.worms.neurons import CANONICAL_NEURONS, NEURON_INDEX
from engines.worms.simulation_params import SimulationParams

LATENTS = ("command", "arousal", "head", "feeding", "salt", "oxygen")

MODULES: dict[str, tuple[str, ...]] = {
    "reverse": ("AVAL", "AVAR", "AVDL", "AVDR", "AVEL", "AVER", "RIML", "RIMR", "AIBL", "AIBR",
                *(f"VA{i}" for i in range(1, 13)), *(f"DA{i}" for i in range(1, 10))),
    "forward": ("AVBL", "AVBR", "RIBL", "RIBR", "PVCL", "PVCR", "AIYL", "AIYR", "RID",
                *(f"VB{i}" for i in range(1, 12)), *(f"DB{i}" for i in range(1, 8))),
    "head_ventral": ("SMDVL", "SMDVR", "RMDVL", "RMDVR"),
    "head_dorsal": ("SMDDL", "SMDDR", "RMDDL", "RMDDR"),
    "salt_sensing": ("ASEL", "ASER", "AWCL", "AWCR", "AWBL", "AWBR", "AIAL", "AIAR"),
    "oxygen_sensing": ("URXL", "URXR", "AQR", "PQR", "BAGL", "BAGR", "AUAL", "AUAR", "RMGL", "RMGR"),
    "pharyngeal": ("I1L", "I1R", "I2L", "I2R", "I3", "I4", "I5", "I6", "M1", "M2L", "M2R", "M3L",
                   "M3R", "M4", "M5", "MCL", "MCR", "MI", "NSML", "NSMR"),
}

# Which neurons the behaviour read-outs come from (the network's outputs).
MOTOR = {
    "forward": tuple(n for n in MODULES["forward"] if n[:2] in ("VB", "DB")),
    "reverse": tuple(n for n in MODULES["reverse"] if n[:2] in ("VA", "DA")),
    "pacemaker": ("MCL", "MCR", "M3L", "M3R", "M4", "NSML", "NSMR"),
}
MOTOR_AROUSAL = 0.3                          # motor neurons' share of the arousal drive
PHARYNX_FEEDING, PHARYNX_PAUSE = 1.2, 0.6   # pharyngeal loadings on feeding and on command
# Of the neurons outside the modules that encode a latent, the share encoding each one:
ENCODED = {"command": 0.2, "arousal": 0.35, "head": 0.12, "feeding": 0.23, "salt": 0.05,
           "oxygen": 0.05}
STIMULUS_LATENTS = ("salt", "oxygen")
HEAD_FIELD_Y = -2.0  # wormneuroatlas y (anterior negative): the head recording's posterior edge
ENCODING_STREAM = 2019  # fixed: the encodings belong to the species, not to a seed


def module_loadings(p: SimulationParams) -> np.ndarray:
    """(300, n_latents) loadings of the planted modules (zero rows elsewhere)."""
    w = np.zeros((len(CANONICAL_NEURONS), len(LATENTS)))
    col = {name: k for k, name in enumerate(LATENTS)}

    def put(module, latent, value):
        w[[NEURON_INDEX[n] for n in MODULES[module]], col[latent]] = value

    put("reverse", "command", p.command_drive)
    put("reverse", "arousal", -p.arousal_drive)
    put("forward", "command", -p.command_drive)
    put("forward", "arousal", p.arousal_drive)
    # the motor neurons obey the command; arousal only sets their pace (speed), so a
    # reversal drives the worm backwards in any state
    for group, sign in (("reverse", -1.0), ("forward", 1.0)):
        w[[NEURON_INDEX[n] for n in MOTOR[group]], col["arousal"]] = sign * MOTOR_AROUSAL * p.arousal_drive
    put("head_ventral", "head", p.head_drive)
    put("head_dorsal", "head", -p.head_drive)
    put("salt_sensing", "salt", p.sensory_drive)
    put("oxygen_sensing", "oxygen", p.sensory_drive)
    put("pharyngeal", "feeding", PHARYNX_FEEDING)
    put("pharyngeal", "command", -PHARYNX_PAUSE)
    return w


@functools.lru_cache(maxsize=1)
def _encoding_draws() -> tuple[np.ndarray, ...]:
    """Uniform draws behind the encodings (fixed), turned into loadings by the parameters."""
    rng = np.random.default_rng(ENCODING_STREAM)
    n = len(CANONICAL_NEURONS)
    return rng.random(n), rng.random(n), rng.random(n), rng.random(n), rng.random(n)


def in_module() -> np.ndarray:
    member = np.zeros(len(CANONICAL_NEURONS), dtype=bool)
    for names in MODULES.values():
        member[[NEURON_INDEX[n] for n in names]] = True
    return member


def encodings(p: SimulationParams) -> tuple[np.ndarray, np.ndarray]:
    """(300, n_latents) loadings of every neuron and (300,) integration timescales in s.

    Behavioural encodings come in both signs, integrated over the neuron's own timescale and
    partly shared with its partners. Interneurons that hear a stimulus are excited by it about
    as strongly and as quickly as the sensory neurons. Module and stimulus neurons integrate
    nothing beyond their own activity time constant (timescale 0).
    """
    encodes, which, sign, strength, tau = _encoding_draws()
    loadings = module_loadings(p)
    rows = np.flatnonzero(~in_module() & (encodes < p.encoding_fraction))
    edges = np.cumsum(list(ENCODED.values()))
    columns = np.array([LATENTS.index(name) for name in ENCODED])[
        np.searchsorted(edges / edges[-1], which[rows])]
    hears_stimulus = np.isin(columns, [LATENTS.index(name) for name in STIMULUS_LATENTS])
    value = np.where(hears_stimulus | (sign[rows] >= 0.5), 1.0, -1.0) * (0.5 + 0.5 * strength[rows])
    loadings[rows, columns] = np.where(hears_stimulus, p.sensory_drive, p.encoding_drive) * value
    behavioural = np.zeros(len(CANONICAL_NEURONS), dtype=bool)
    behavioural[rows[~hears_stimulus]] = True
    loadings[behavioural] = _share_with_partners(loadings, behavioural, p.wiring_share)
    lo, hi = np.log(p.encoding_tau_min_s), np.log(max(p.encoding_tau_max_s, p.encoding_tau_min_s))
    timescale = np.where(behavioural, np.exp(lo + (hi - lo) * tau), 0.0)
    return loadings, timescale


def _share_with_partners(loadings: np.ndarray, rows: np.ndarray, share: float) -> np.ndarray:
    """The chosen rows' loadings mixed with their synaptic partners' mean loading (scaled to
    the row's own size): neurons wired together come to encode alike."""
    own = loadings[rows]
    partners = coupling_matrix()[rows] @ loadings
    size = np.linalg.norm(own, axis=1, keepdims=True)
    partner_size = np.linalg.norm(partners, axis=1, keepdims=True)
    partners = np.divide(partners * size, partner_size, out=np.zeros_like(partners),
                         where=partner_size > 0)
    mixed = (1 - share) * own + share * partners
    mixed_size = np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.divide(mixed * size, mixed_size, out=own.copy(), where=mixed_size > 0)


@functools.lru_cache(maxsize=1)
def head_field() -> np.ndarray:
    """Slots of the neurons a head recording sees: NeuroPAL whole-brain imaging (as in the
    Flavell lab's recordings) covers the nerve ring, the head ganglia and the retrovesicular
    ganglion, 192 neurons lying anterior of HEAD_FIELD_Y on wormneuroatlas's body axis; every
    labelled neuron of the shared real recordings lies there."""
    from engines.worms.connectome import neuron_positions
    return np.flatnonzero(neuron_positions()["y"].to_numpy() < HEAD_FIELD_Y)


@functools.lru_cache(maxsize=1)
def coupling_matrix() -> np.ndarray:
    """Row-normalised anatomical input matrix A[i, j] (input to i from j): chemical synapses
    (Cook 2019, cect) plus gap junctions, so each neuron hears the mean of its partners."""
    from engines.worms.connectome import anatomical_connectome
    conn = anatomical_connectome()
    a = conn.chemical.T + conn.gap
    total = a.sum(axis=1, keepdims=True)
    return np.divide(a, total, out=np.zeros_like(a), where=total > 0)


def readout_matrix(velocity_scale: float, head_scale: float, pumping_scale: float) -> np.ndarray:
    """(300, 3): activity @ matrix = velocity (B- minus A-type motor neurons), head angle
    (ventral minus dorsal head motor neurons) and pumping (pharyngeal pacemakers), each the
    difference or mean of its groups' mean activity times its scale."""
    out = np.zeros((len(CANONICAL_NEURONS), 3))

    def add(column, names, weight):
        out[[NEURON_INDEX[n] for n in names], column] += weight / len(names)

    add(0, MOTOR["forward"], velocity_scale)
    add(0, MOTOR["reverse"], -velocity_scale)
    add(1, MODULES["head_ventral"], head_scale)
    add(1, MODULES["head_dorsal"], -head_scale)
    add(2, MOTOR["pacemaker"], pumping_scale)
    return out
