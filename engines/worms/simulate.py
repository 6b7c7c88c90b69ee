"""The embedded default: whole-brain activity simulated on the real connectome (labelled simulated).

Why this model. Whole-brain recordings of C. elegans are slow and low-dimensional: a few shared
modes carry most of the variance and trace the motor command sequence (Kato et al. 2015, Cell:
forward, reversal and turning on a low-dimensional manifold), and most neurons encode velocity,
head curvature or feeding, each over its own timescale from seconds to minutes, with slow
behavioural states changing those encodings (Atanas et al. 2023, Cell). A rate model driven by
noise alone on the connectome decorrelates within seconds and spreads its variance thinly
(autocorrelation at 10 s ~0, PCs 1-3 ~0.3 where real worms show ~0.56 and ~0.55). Slow
adaptation alone would lengthen the autocorrelation without creating shared modes; a single
neuromodulatory state alone would add one slow mode but none locked to behaviour. So the model
here is a *low-rank latent behavioural drive on the connectome*, which gives both and keeps a
ground truth the tests can check (the neuromodulatory state is one of its latents):

    latents z(t)    a forward/reverse command switch (refractory, stimulus- and arousal-
                    dependent hazard, brief gamma-length reversals), a slow arousal state
                    (neuromodulatory roaming/dwelling; Flavell et al. 2013), a head-swing
                    rhythm, a slow feeding state, and the salt / oxygen stimulus pulses
                    (engines.worms.simulation_latents)
    drive           d_i(t) = EWMA over tau_enc_i of  sum_k W_ik z_k(t): W is fixed by biology
                    for the planted modules (AVA/AVD/AVE/RIM with reversals, AVB/RIB with
                    forward runs, SMD/RMD with head swings, sensory neurons with their
                    stimulus) and elsewhere a sparse random encoding with its own timescale,
                    partly inherited from synaptic partners (engines.worms.simulation_circuit)
    rates           tau_r dx_i/dt = -x_i + sigmoid(g (d_i + eta_i + c sum_j A_ij (x_j - 1/2)))
                    eta_i: private Ornstein-Uhlenbeck fluctuations (s.d. private_noise,
                    timescale private_noise_tau_s): real traces drift over minutes on their
                    own (their autocorrelation is still ~0.3 at 40 s)
                    A: the anatomical connectome (cect, Cook 2019; chemical in-synapses plus
                    gap junctions), rows normalised, so partners share activity
    behaviour       read out from the network: velocity from B- minus A-type motor neurons,
                    head angle from ventral minus dorsal head motor neurons (SMD, RMD),
                    pumping from pharyngeal pacemakers; reversal_vec is the command state
    calcium         GCaMP as two first-order filters: tau_rise da/dt = x - a,
                    tau_decay dc/dt = a - c
    fluorescence    F_i = F0_i (1 + dff_gain c_i) + sigma_m eta, F0_i ~ U(0.5, 1.5)

All times in seconds; one Euler step is ``dt / substeps``, at most 0.2 s. The parameters
(engines.worms.simulation_params) are declared once with bounds, units and one line each; their
defaults put the statistics of 480 s stretches inside the ranges of real Flavell-lab recordings
(engines.worms.statistics.TARGETS; ``python -m benchmarks.worms`` prints both).

The network has all 300 neurons; each worm records a random 120-150 of the 192 in the head's
field of view (the shared Flavell-lab recordings hold 130 and 146 traces), so worms share only
part of their neurons. Unlike real recordings, where NeuroPAL identifies about 100 of them,
every simulated trace is named. The count matters for the comparison: fewer traces raise and
scatter the share of variance in PCs 1-3. Known simplifications: the coupling is unsigned
(synapse signs are mostly unknown), there are no turns (omega/delta) beyond slow steering, and
the stimulus pulses are the same in every worm. Deterministic under ``seed``. Every recording's
provenance says simulated=True and its name starts with 'simulated'.

The ``WormSimulator`` runner can be advanced N samples at a time and snapshotted cheaply; the
``simulate_collection`` convenience runs it to the end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from engines.worms.model import EVENT_COLUMNS, Collection, Recording
from engines.worms.neurons import CANONICAL_NEURONS
from engines.worms.simulation_circuit import (LATENTS, MODULES, coupling_matrix, encodings,
                                              head_field, readout_matrix)
from engines.worms.simulation_latents import STIMULI, Latents, draw_latents, stimulus_schedule
from engines.worms.simulation_params import SimulationParams, parameter_specs

__all__ = ["MODULES", "STIMULI", "BEHAVIOUR_NEURONS", "GroundTruth", "SimulationParams",
           "SimulatorSnapshot", "WormSimulator", "parameter_specs", "simulate_collection",
           "stimulus_schedule"]

BEHAVIOUR_NEURONS: dict[str, tuple[str, ...]] = {
    "reversal": ("AVAL", "AVAR", "AVDL", "AVDR", "AVEL", "AVER", "RIML", "RIMR"),
    "forward": ("AVBL", "AVBR", "RIBL", "RIBR"),
    "head_ventral": MODULES["head_ventral"],
    "head_dorsal": MODULES["head_dorsal"],
    "pumping": ("MCL", "MCR", "M3L", "M3R", "M4", "NSML", "NSMR"),
}
"""Behaviour -> the neurons known to rise with it (the tests check them against the traces)."""

VELOCITY_SCALE = 0.05    # mm/s per unit of B-minus-A motor activity
HEAD_SCALE = 1.2         # rad per unit of ventral-minus-dorsal head motor activity
PUMPING_SCALE = 5.0      # Hz at full pacemaker activity
SAMPLES_PER_BLOCK = 200  # latent drives are computed for this many samples at once


@dataclass
class GroundTruth:
    """What the simulation knows and an analysis should recover."""
    modules: dict                   # module name -> neuron names
    stimulus_epochs: pd.DataFrame   # start_s, end_s, label (same in every worm)
    state_epochs: pd.DataFrame      # worm, start_s, end_s, state in {forward, reverse}
    recorded: dict                  # recording name -> neurons recorded in that worm
    params: SimulationParams = field(default_factory=SimulationParams)
    behaviour_neurons: dict = field(default_factory=lambda: dict(BEHAVIOUR_NEURONS))
    encoding: pd.DataFrame | None = None  # neuron x (latent loadings..., timescale_s)


@dataclass
class SimulatorSnapshot:
    """The runner's full dynamic state after ``samples_done`` samples (arrays are copies)."""
    samples_done: int
    rate: np.ndarray
    drive: np.ndarray
    private: np.ndarray
    rise: np.ndarray
    calcium: np.ndarray
    rng_state: dict


class WormSimulator:
    """Step-wise simulation of ``n_worms`` worms on the canonical 300-neuron axis.

    The latents (states, rhythms, stimuli) and recorded subsets are drawn from ``seed`` when
    the simulator is made; ``advance(n)`` integrates n more samples; ``collection()`` packages
    what was simulated so far.
    """

    def __init__(self, n_worms: int = 20, duration_s: float = 960.0, dt: float = 0.6,
                 seed: int = 0, params: SimulationParams | None = None):
        self.params = p = params or SimulationParams()
        self.n_worms, self.dt, self.seed = n_worms, dt, seed
        self.n_time = int(round(duration_s / dt))
        self.substeps = max(1, int(np.ceil(dt / 0.2 - 1e-9)))
        rng = np.random.default_rng(seed)
        self.latents: Latents = draw_latents(n_worms, self.n_time, dt, p, rng)
        self.stimuli, self.reverse = self.latents.stimuli, self.latents.reverse
        field = head_field()
        self.recorded = [np.sort(rng.choice(field, min(len(field), rng.integers(
            p.recorded_min, p.recorded_max, endpoint=True)), replace=False))
            for _ in range(n_worms)]
        self.baseline_f = rng.uniform(0.5, 1.5, (n_worms, len(CANONICAL_NEURONS)))
        self._rng = rng
        self._coupling = sparse.csr_matrix(coupling_matrix())  # ~7% non-zero
        self._readout = readout_matrix(VELOCITY_SCALE, HEAD_SCALE, PUMPING_SCALE)
        self._loadings, self._timescale = encodings(p)
        self.calcium_trace = np.zeros((n_worms, self.n_time, len(CANONICAL_NEURONS)), np.float32)
        self.outputs = np.zeros((n_worms, self.n_time, 3))  # velocity, head angle, pumping
        self.samples_done = 0
        shape = (n_worms, len(CANONICAL_NEURONS))
        self._rate = np.full(shape, 0.5)
        self._drive = self.latent_values(0, 1)[0] @ self._loadings.T
        self._private = p.private_noise * rng.standard_normal(shape)  # stationary start
        self._rise = np.full(shape, 0.5)
        self._calcium = np.full(shape, 0.5)

    def latent_values(self, start: int, end: int) -> np.ndarray:
        """(end - start, n_worms, n_latents) latents of samples start..end-1 (order: LATENTS)."""
        lat, n = self.latents, end - start
        stimuli = np.broadcast_to((2 * self.stimuli[start:end] - 1)[:, None, :],
                                  (n, self.n_worms, len(STIMULI)))
        per_worm = np.stack([2.0 * lat.reverse[:, start:end] - 1, lat.arousal[:, start:end],
                             lat.head[:, start:end], lat.feeding[:, start:end]], axis=-1)
        return np.concatenate([per_worm.transpose(1, 0, 2), stimuli], axis=-1)

    def advance(self, n_samples: int) -> int:
        """Integrate up to ``n_samples`` more samples; returns how many were done."""
        p, h = self.params, self.dt / self.substeps
        start, end = self.samples_done, min(self.n_time, self.samples_done + n_samples)
        keep = np.exp(-h / p.private_noise_tau_s)
        kick = p.private_noise * np.sqrt(1 - keep * keep)
        follow = np.where(self._timescale > 0, -np.expm1(-h / np.maximum(self._timescale, 1e-9)), 1.0)
        rate_step, rise_step, decay_step = h / p.tau_rate_s, h / p.tau_rise_s, h / p.tau_decay_s
        drive, private, rate = self._drive, self._private, self._rate
        rise, calcium = self._rise, self._calcium
        for block in range(start, end, SAMPLES_PER_BLOCK):
            stop = min(end, block + SAMPLES_PER_BLOCK)
            targets = self.latent_values(block, stop) @ self._loadings.T    # (n, worms, 300)
            for k in range(block, stop):
                target = targets[k - block]
                noise = self._rng.standard_normal((self.substeps,) + rate.shape, dtype=np.float32)
                for j in range(self.substeps):
                    drive += follow * (target - drive)
                    private *= keep
                    private += kick * noise[j]
                    total = drive + private + p.coupling * (self._coupling @ (rate - 0.5).T).T
                    rate += rate_step * (1 / (1 + np.exp(-p.gain * total)) - rate)
                    rise += rise_step * (rate - rise)
                    calcium += decay_step * (rise - calcium)
                self.calcium_trace[:, k] = calcium
                self.outputs[:, k] = rate @ self._readout
        done = end - self.samples_done
        self.samples_done = end
        return done

    def snapshot(self) -> SimulatorSnapshot:
        return SimulatorSnapshot(self.samples_done, self._rate.copy(), self._drive.copy(),
                                 self._private.copy(), self._rise.copy(), self._calcium.copy(),
                                 self._rng.bit_generator.state)

    def restore(self, snap: SimulatorSnapshot) -> None:
        self.samples_done = snap.samples_done
        self._rate, self._drive, self._private = snap.rate.copy(), snap.drive.copy(), snap.private.copy()
        self._rise, self._calcium = snap.rise.copy(), snap.calcium.copy()
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
                        "simulated": True, "notes": "SIMULATED: latent behavioural drive on the "
                        f"Cook 2019 connectome (cect), seed {self.seed}; see engines.worms.simulate"})

    def _behaviour(self, w: int, rng) -> dict:
        """The network's outputs with a little tracking noise, and the command state."""
        n = self.samples_done
        velocity, head, pumping = self.outputs[w, :n].T
        return {"velocity": velocity + 0.002 * rng.standard_normal(n),
                "head_angle": head + 0.02 * rng.standard_normal(n),
                "pumping": np.clip(pumping + 0.1 * rng.standard_normal(n), 0, PUMPING_SCALE),
                "reversal_vec": self.reverse[w, :n].astype(float)}

    def _events(self, w: int) -> pd.DataFrame:
        from engines.worms.loaders._common import intervals_from_flags
        time = np.arange(self.samples_done) * self.dt
        frames = [intervals_from_flags(self.stimuli[:self.samples_done, k], time, "stimulus", name)
                  for k, name in enumerate(STIMULI)]
        frames.append(intervals_from_flags(self.reverse[w, :self.samples_done], time,
                                           "behaviour", "reversal"))
        return pd.concat(frames, ignore_index=True)[list(EVENT_COLUMNS)]

    def encoding_table(self) -> pd.DataFrame:
        """Every neuron's loading on each latent and its integration timescale (0: none)."""
        table = pd.DataFrame(self._loadings, index=pd.Index(CANONICAL_NEURONS, name="neuron"),
                             columns=list(LATENTS))
        table["timescale_s"] = self._timescale
        return table

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
                           params=self.params, encoding=self.encoding_table())


def simulate_collection(n_worms: int = 20, duration_s: float = 960.0, dt: float = 0.6,
                        seed: int = 0, params: SimulationParams | None = None
                        ) -> tuple[Collection, GroundTruth]:
    """Run the simulator to the end: the embedded default dataset and its ground truth."""
    sim = WormSimulator(n_worms, duration_s, dt, seed, params)
    sim.advance(sim.n_time)
    return sim.collection(), sim.ground_truth()
