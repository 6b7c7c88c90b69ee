"""The behavioural latents of the simulated worms, drawn once per worm before any neuron moves.

Per sample (step ``dt``), for ``n_worms`` worms:
    stimuli     (T, 2) 0/1 salt and oxygen pulses, the same schedule in every worm
    reverse     (W, T) bool, the forward/reverse command state: a stochastic switch (Roberts et
                al. 2016; Gordus et al. 2015) whose hazard of starting a reversal is
                    1/forward_run_s * (1 - exp(-age / refractory_s))       refractory after one
                                    * stimulus_reversal_gain while a pulse is on
                                    * exp(-arousal_reversal_gain * arousal)
                and whose reversals last a gamma-distributed time (shape 3, mean reversal_s):
                reversals are brief and regular, as in freely-moving recordings.
    arousal     (W, T) the neuromodulatory roaming/dwelling axis (Flavell et al. 2013; Ji et
                al. 2021) that speeds the worm up and makes reversals rarer: alternating
                roaming (+1) and dwelling (-1) bouts of gamma-distributed length (shape 3,
                mean arousal_bout_s), smoothed over arousal_transition_s. Bouts alternate
                fairly regularly, so every 8-minute stretch holds several of them, and the
                slow shared variance (and with it the statistics) varies little from worm to
                worm, as in real recordings.
    head        (W, T) head bending, unit variance: a noisy oscillator with period
                head_swing_period_s that loses its phase over head_swing_coherence_s (the
                head-swing rhythm) mixed with slow OU steering (timescale steering_tau_s,
                steering_share of the variance), as real head angles wander slowly.
    feeding     (W, T) slow Ornstein-Uhlenbeck feeding state (timescale feeding_tau_s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from engines.worms.simulation_params import SimulationParams

STIMULI = {"salt": "salt_sensing", "oxygen": "oxygen_sensing"}
REVERSAL_SHAPE = 3.0  # gamma shape of reversal lengths: a mode near the mean, few very short
BOUT_SHAPE = 3.0      # gamma shape of roaming/dwelling bouts: regular alternation


def alternating_bouts(n_time: int, dt: float, bout_s: float, transition_s: float,
                      rng: np.random.Generator) -> np.ndarray:
    """+1/-1 bouts of gamma length (mean bout_s), first-order smoothed over transition_s."""
    total, lengths = 0.0, []
    while total < (n_time + 1) * dt:
        lengths.append(rng.gamma(BOUT_SHAPE, bout_s / BOUT_SHAPE))
        total += lengths[-1]
    lengths[0] *= rng.random()  # the recording starts somewhere inside a bout
    edges = np.cumsum(lengths)
    state = np.where(np.searchsorted(edges, np.arange(n_time) * dt, side="right") % 2 == 0,
                     1.0, -1.0) * rng.choice([-1.0, 1.0])
    a = np.exp(-dt / transition_s)
    return lfilter([1 - a], [1.0, -a], state, zi=[a * state[0]])[0]


def stimulus_schedule(n_time: int, dt: float, p: SimulationParams) -> np.ndarray:
    """(n_time, n_stimuli) 0/1: salt and oxygen pulses alternate, one every period/2."""
    t = np.arange(n_time) * dt
    on = np.zeros((n_time, len(STIMULI)))
    half = p.stimulus_period_s / 2
    for k in range(len(STIMULI)):
        phase = (t - half * (k + 0.5)) % p.stimulus_period_s
        on[:, k] = (t >= half * (k + 0.5)) & (phase < p.stimulus_length_s)
    return on


def ornstein_uhlenbeck(n_time: int, dt: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance OU process sampled exactly every dt, started from its stationary law."""
    a = np.exp(-dt / tau_s)
    kicks = rng.standard_normal(n_time) * np.sqrt(1 - a * a)
    kicks[0] = rng.standard_normal()
    return lfilter([1.0], [1.0, -a], kicks)


def noisy_oscillator(n_time: int, dt: float, period_s: float, coherence_s: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Real part of a rotating, decaying complex AR(1) process, scaled to unit variance."""
    step = np.exp(-dt / coherence_s + 2j * np.pi * dt / period_s)
    scale = np.sqrt(1 - abs(step) ** 2)
    kicks = (rng.standard_normal(n_time) + 1j * rng.standard_normal(n_time)) * scale
    kicks[0] = rng.standard_normal() + 1j * rng.standard_normal()
    return lfilter([1.0], [1.0, -step], kicks).real


def reversal_states(dt: float, stimulus_on: np.ndarray, arousal: np.ndarray, p: SimulationParams,
                    rng: np.random.Generator) -> np.ndarray:
    """(n_time,) bool, True while reversing (see the module docstring for the hazard)."""
    n_time = arousal.size
    reverse = np.zeros(n_time, dtype=bool)
    uniform = rng.random(n_time)
    gain = np.where(stimulus_on, p.stimulus_reversal_gain, 1.0) * np.exp(
        -p.arousal_reversal_gain * arousal) / p.forward_run_s
    age = rng.exponential(p.refractory_s) if p.refractory_s > 0 else 0.0  # not just reversed
    k = 0
    while k < n_time:
        ready = 1 - np.exp(-age / p.refractory_s) if p.refractory_s > 0 else 1.0
        if uniform[k] < 1 - np.exp(-gain[k] * ready * dt):
            length_s = rng.gamma(REVERSAL_SHAPE, p.reversal_s / REVERSAL_SHAPE)
            n = max(1, int(round(length_s / dt)))
            reverse[k:k + n] = True
            k, age = k + n, 0.0
        else:
            k, age = k + 1, age + dt
    return reverse


@dataclass
class Latents:
    stimuli: np.ndarray   # (T, 2)
    reverse: np.ndarray   # (W, T) bool
    arousal: np.ndarray   # (W, T)
    head: np.ndarray      # (W, T)
    feeding: np.ndarray   # (W, T)


def draw_latents(n_worms: int, n_time: int, dt: float, p: SimulationParams,
                 rng: np.random.Generator) -> Latents:
    stimuli = stimulus_schedule(n_time, dt, p)
    any_stimulus = stimuli.any(axis=1)
    arousal, head, feeding, reverse = [], [], [], []
    for _ in range(n_worms):
        arousal.append(alternating_bouts(n_time, dt, p.arousal_bout_s, p.arousal_transition_s, rng))
        rhythm = noisy_oscillator(n_time, dt, p.head_swing_period_s, p.head_swing_coherence_s, rng)
        steering = ornstein_uhlenbeck(n_time, dt, p.steering_tau_s, rng)
        head.append(np.sqrt(1 - p.steering_share) * rhythm + np.sqrt(p.steering_share) * steering)
        feeding.append(ornstein_uhlenbeck(n_time, dt, p.feeding_tau_s, rng))
        reverse.append(reversal_states(dt, any_stimulus, arousal[-1], p, rng))
    return Latents(stimuli, np.stack(reverse), np.stack(arousal), np.stack(head),
                   np.stack(feeding))
