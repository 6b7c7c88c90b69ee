"""The embedded default: whole-brain activity simulated on the real connectome (labelled simulated).

Model (all times in seconds; one Euler step is ``dt / substeps``, at most 0.2 s):

    latent drives   s(t) in {forward, reverse}: a two-state switching process with exponential
                    dwell times (means ``forward_s``, ``reverse_s``); a stimulus pulse multiplies
                    the reversal hazard by 4 while it lasts.
                    Stimulus pulses: 'salt' and 'oxygen', 10 s each, same schedule in every worm.
    rates           tau_r dx_i/dt = -x_i + sigmoid(g (d_i(t) + c sum_j A_ij (x_j - 1/2)) - b)
                                    + sigma_p xi_i(t)
                    d_i(t): the drive of the functional module neuron i belongs to (reverse
                    module +1 in reverse / -1 in forward, forward module the opposite, sensory
                    modules +1.5 during their stimulus, pharyngeal module a slow oscillation);
                    A: the anatomical connectome (cect, Cook 2019; chemical in-synapses plus gap
                    junctions), each row normalised to sum 1, so unmodulated neurons follow
                    their synaptic partners.
    calcium         GCaMP as two first-order filters: tau_rise da/dt = x - a,
                    tau_decay dc/dt = a - c.
    fluorescence    F_i = F0_i (1 + dff_gain c_i) + sigma_m eta, F0_i ~ U(0.5, 1.5).

Each worm records a random subset of 100-150 neurons (as NeuroPAL identifies), so worms share
only part of their neurons. Deterministic under ``seed``. Every recording's provenance says
simulated=True and its name starts with 'simulated'.

The ``WormSimulator`` runner can be advanced N samples at a time and snapshotted cheaply; the
``simulate_collection`` convenience runs it to the end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from engines.worms.model import EVENT_COLUMNS, Collection, Recording
from engines.worms.neurons import CANONICAL_NEURONS, NEURON_INDEX

MODULES: dict[str, tuple[str, ...]] = {
    "reverse": ("AVAL", "AVAR", "AVDL", "AVDR", "AVEL", "AVER", "RIML", "RIMR", "AIBL", "AIBR",
                *(f"VA{i}" for i in range(1, 13)), *(f"DA{i}" for i in range(1, 10))),
    "forward": ("AVBL", "AVBR", "RIBL", "RIBR", "PVCL", "PVCR", "AIYL", "AIYR", "RID",
                *(f"VB{i}" for i in range(1, 12)), *(f"DB{i}" for i in range(1, 8))),
    "salt_sensing": ("ASEL", "ASER", "AWCL", "AWCR", "AWBL", "AWBR", "AIAL", "AIAR"),
    "oxygen_sensing": ("URXL", "URXR", "AQR", "PQR", "BAGL", "BAGR", "AUAL", "AUAR", "RMGL", "RMGR"),
    "pharyngeal": ("I1L", "I1R", "I2L", "I2R", "I3", "I4", "I5", "I6", "M1", "M2L", "M2R", "M3L",
                   "M3R", "M4", "M5", "MCL", "MCR", "MI", "NSML", "NSMR"),
}
STIMULI = {"salt": "salt_sensing", "oxygen": "oxygen_sensing"}


@dataclass
class SimulationParams:
    tau_rate_s: float = 1.0
    gain: float = 4.0
    threshold: float = 2.0
    coupling: float = 1.5
    process_noise: float = 0.15
    tau_rise_s: float = 0.4
    tau_decay_s: float = 2.0
    dff_gain: float = 1.5
    measurement_noise: float = 0.03
    forward_s: float = 25.0
    reverse_s: float = 6.0
    stimulus_period_s: float = 60.0
    stimulus_length_s: float = 10.0
    n_recorded: tuple = (100, 150)


@dataclass
class GroundTruth:
    """What the simulation knows and an analysis should recover."""
    modules: dict                   # module name -> neuron names
    stimulus_epochs: pd.DataFrame   # start_s, end_s, label (same in every worm)
    state_epochs: pd.DataFrame      # worm, start_s, end_s, state in {forward, reverse}
    recorded: dict                  # recording name -> neurons recorded in that worm
    params: SimulationParams = field(default_factory=SimulationParams)


def stimulus_schedule(n_time: int, dt: float, p: SimulationParams) -> np.ndarray:
    """(n_time, n_stimuli) 0/1: salt and oxygen pulses alternate, one every period/2."""
    t = np.arange(n_time) * dt
    on = np.zeros((n_time, len(STIMULI)))
    half = p.stimulus_period_s / 2
    for k in range(len(STIMULI)):
        phase = (t - half * (k + 0.5)) % p.stimulus_period_s
        on[:, k] = (t >= half * (k + 0.5)) & (phase < p.stimulus_length_s)
    return on


def state_sequence(n_time: int, dt: float, stimulus_on: np.ndarray, p: SimulationParams,
                   rng: np.random.Generator) -> np.ndarray:
    """(n_time,) bool, True while reversing: exponential dwells, hazard x4 during stimuli."""
    reverse = np.zeros(n_time, dtype=bool)
    uniform = rng.random(n_time)
    state = False
    for k in range(n_time):
        rate = 1 / p.reverse_s if state else (4.0 if stimulus_on[k] else 1.0) / p.forward_s
        if uniform[k] < 1 - np.exp(-rate * dt):
            state = not state
        reverse[k] = state
    return reverse


def _coupling_matrix() -> np.ndarray:
    """Row-normalised anatomical input matrix A[i, j] (input to i from j)."""
    from engines.worms.connectome import anatomical_connectome
    conn = anatomical_connectome()
    a = conn.chemical.T + conn.gap
    total = a.sum(axis=1, keepdims=True)
    return np.divide(a, total, out=np.zeros_like(a), where=total > 0)


def _module_index() -> tuple[np.ndarray, list[str]]:
    """(300,) module number per neuron (-1 outside every module) and the module names."""
    names = list(MODULES)
    member = np.full(len(CANONICAL_NEURONS), -1)
    for m, name in enumerate(names):
        member[[NEURON_INDEX[n] for n in MODULES[name]]] = m
    return member, names


@dataclass
class SimulatorSnapshot:
    """The runner's full dynamic state after ``samples_done`` samples (arrays are copies)."""
    samples_done: int
    rate: np.ndarray
    rise: np.ndarray
    calcium: np.ndarray
    rng_state: dict


class WormSimulator:
    """Step-wise simulation of ``n_worms`` worms on the canonical 300-neuron axis.

    The latent schedule (states, stimuli, recorded subsets) is drawn from ``seed`` when the
    simulator is made; ``advance(n)`` integrates n more samples; ``collection()`` packages
    what was simulated so far.
    """

    def __init__(self, n_worms: int = 20, duration_s: float = 960.0, dt: float = 0.6,
                 seed: int = 0, params: SimulationParams | None = None):
        self.params = p = params or SimulationParams()
        self.n_worms, self.dt, self.seed = n_worms, dt, seed
        self.n_time = int(round(duration_s / dt))
        self.substeps = max(1, int(np.ceil(dt / 0.2 - 1e-9)))
        rng = np.random.default_rng(seed)
        self.stimuli = stimulus_schedule(self.n_time, dt, p)
        any_stimulus = self.stimuli.any(axis=1)
        self.reverse = np.stack([state_sequence(self.n_time, dt, any_stimulus, p, rng)
                                 for _ in range(n_worms)])
        self.pharynx_phase = rng.uniform(0, 2 * np.pi, n_worms)
        self.recorded = [np.sort(rng.choice(len(CANONICAL_NEURONS), rng.integers(*p.n_recorded,
                         endpoint=True), replace=False)) for _ in range(n_worms)]
        self.baseline_f = rng.uniform(0.5, 1.5, (n_worms, len(CANONICAL_NEURONS)))
        self._rng = rng
        self._coupling = sparse.csr_matrix(_coupling_matrix())  # ~7% non-zero
        self._member, self.module_names = _module_index()
        self.calcium_trace = np.zeros((n_worms, self.n_time, len(CANONICAL_NEURONS)), np.float32)
        self.samples_done = 0
        shape = (n_worms, len(CANONICAL_NEURONS))
        self._rate = np.full(shape, 0.1)
        self._rise = np.full(shape, 0.1)
        self._calcium = np.full(shape, 0.1)

    def module_drive(self, k: int) -> np.ndarray:
        """(n_worms, 300) drive at sample k (0 for neurons outside every module)."""
        rev = self.reverse[:, k].astype(float)
        t = k * self.dt
        per_module = np.stack([
            2 * rev - 1,                                   # reverse module
            1 - 2 * rev,                                   # forward module
            np.full(self.n_worms, 2.0 * self.stimuli[k, 0] - 0.5),
            np.full(self.n_worms, 2.0 * self.stimuli[k, 1] - 0.5),
            np.sin(2 * np.pi * t / 20.0 + self.pharynx_phase),
            np.zeros(self.n_worms),                        # slot for "no module" (-1)
        ], axis=1)
        return per_module[:, self._member]

    def advance(self, n_samples: int) -> int:
        """Integrate up to ``n_samples`` more samples; returns how many were done."""
        p, h = self.params, self.dt / self.substeps
        end = min(self.n_time, self.samples_done + n_samples)
        noise_scale = p.process_noise * np.sqrt(h)
        for k in range(self.samples_done, end):
            drive = self.module_drive(k)
            noise = self._rng.standard_normal((self.substeps,) + self._rate.shape, dtype=np.float32)
            for j in range(self.substeps):
                partner = (self._coupling @ (self._rate - 0.5).T).T
                target = 1 / (1 + np.exp(-(p.gain * (drive + p.coupling * partner) - p.threshold)))
                self._rate += h / p.tau_rate_s * (target - self._rate)
                self._rate += noise_scale * noise[j]
                self._rise += h / p.tau_rise_s * (self._rate - self._rise)
                self._calcium += h / p.tau_decay_s * (self._rise - self._calcium)
            self.calcium_trace[:, k] = self._calcium
        done = end - self.samples_done
        self.samples_done = end
        return done

    def snapshot(self) -> SimulatorSnapshot:
        return SimulatorSnapshot(self.samples_done, self._rate.copy(), self._rise.copy(),
                                 self._calcium.copy(), self._rng.bit_generator.state)

    def restore(self, snap: SimulatorSnapshot) -> None:
        self.samples_done = snap.samples_done
        self._rate, self._rise, self._calcium = snap.rate.copy(), snap.rise.copy(), snap.calcium.copy()
        self._rng.bit_generator.state = snap.rng_state  # the same noise follows, as before

    def worm_name(self, w: int) -> str:
        return f"simulated worm {w + 1:02d}"

    def collection(self) -> Collection:
        """Recordings of the samples simulated so far (recorded neurons only, with noise)."""
        rng = np.random.default_rng([self.seed, self.samples_done])  # same noise on every call
        return Collection(name=f"simulated (connectome rate model, seed {self.seed})",
                          recordings=[self._recording(w, rng) for w in range(self.n_worms)])

    def _recording(self, w: int, rng: np.random.Generator) -> Recording:
        p, n = self.params, self.samples_done
        cols = self.recorded[w]
        time = np.arange(n) * self.dt
        calcium = self.calcium_trace[w, :n][:, cols]
        f = self.baseline_f[w, cols] * (1 + p.dff_gain * calcium)
        f = f + p.measurement_noise * rng.standard_normal(f.shape)
        return Recording(
            name=self.worm_name(w), time=time, traces=f.astype(np.float32),
            labels=[CANONICAL_NEURONS[c] for c in cols], behaviour=self._behaviour(w, rng),
            events=self._events(w), warnings=[],
            provenance={"source": "simulation", "file": "", "dataset": "simulated",
                        "simulated": True, "notes": "SIMULATED: rate model on the Cook 2019 "
                        f"connectome (cect), seed {self.seed}; see engines.worms.simulate"})

    def _behaviour(self, w: int, rng) -> dict:
        n = self.samples_done
        rev = self.reverse[w, :n]
        t = np.arange(n) * self.dt
        velocity = np.where(rev, -0.03, 0.02) + 0.004 * rng.standard_normal(n)
        head = 0.4 * np.sin(2 * np.pi * t / 3.0) + 0.05 * rng.standard_normal(n)
        pumping = np.clip(3.0 + 1.5 * np.sin(2 * np.pi * t / 20.0 + self.pharynx_phase[w])
                          - 2.0 * rev, 0, None)
        return {"velocity": velocity, "head_angle": head, "pumping": pumping,
                "reversal_vec": rev.astype(float)}

    def _events(self, w: int) -> pd.DataFrame:
        from engines.worms.loaders._common import intervals_from_flags
        time = np.arange(self.samples_done) * self.dt
        frames = [intervals_from_flags(self.stimuli[:self.samples_done, k], time, "stimulus", name)
                  for k, name in enumerate(STIMULI)]
        frames.append(intervals_from_flags(self.reverse[w, :self.samples_done], time,
                                           "behaviour", "reversal"))
        return pd.concat(frames, ignore_index=True)[list(EVENT_COLUMNS)]

    def ground_truth(self) -> GroundTruth:
        time = np.arange(self.n_time) * self.dt
        from engines.worms.loaders._common import intervals_from_flags
        stim = pd.concat([intervals_from_flags(self.stimuli[:, k], time, "stimulus", name)
                          for k, name in enumerate(STIMULI)], ignore_index=True)
        states = []
        for w in range(self.n_worms):
            for state, flags in (("reverse", self.reverse[w]), ("forward", ~self.reverse[w])):
                ep = intervals_from_flags(flags, time, "state", state)
                states.append(pd.DataFrame({"worm": self.worm_name(w), "start_s": ep["start_s"],
                                            "end_s": ep["end_s"], "state": state}))
        states = pd.concat(states, ignore_index=True).sort_values(["worm", "start_s"],
                                                                  ignore_index=True)
        return GroundTruth(modules={m: list(v) for m, v in MODULES.items()},
                           stimulus_epochs=stim[["start_s", "end_s", "label"]], state_epochs=states,
                           recorded={self.worm_name(w): [CANONICAL_NEURONS[c] for c in cols]
                                     for w, cols in enumerate(self.recorded)},
                           params=self.params)


def simulate_collection(n_worms: int = 20, duration_s: float = 960.0, dt: float = 0.6,
                        seed: int = 0, params: SimulationParams | None = None
                        ) -> tuple[Collection, GroundTruth]:
    """Run the simulator to the end: the embedded default dataset and its ground truth."""
    sim = WormSimulator(n_worms, duration_s, dt, seed, params)
    sim.advance(sim.n_time)
    return sim.collection(), sim.ground_truth()
