"""Local E/I adaptation: target rates, the learning-rate schedule and the one-step design."""
from __future__ import annotations

import numpy as np

from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.topology import Topology

# How a reservoir's inhibition is set (``BatchedReservoir.set_adaptation_mode``): at the global
# balance g; learned by the local rule toward each neuron's target rate; or designed in one step
# so that the targets are a fixed point.
ADAPTATION_MODES = ("off", "local rule", "one-step")


def draw_targets(adaptation: AdaptationParams, n: int, seed: int = 0) -> np.ndarray:
    """Per-neuron target rates rho_i (homogeneous, uniform or Beta-distributed)."""
    rng = np.random.default_rng(seed)
    low, high = adaptation.target_low, adaptation.target_high
    if adaptation.targets == "homogeneous":
        return np.full(n, adaptation.target_rate)
    if adaptation.targets == "uniform":
        return rng.uniform(low, high, n)
    return low + (high - low) * rng.beta(adaptation.beta_a, adaptation.beta_b, n)


def learning_rates(adaptation: AdaptationParams, first_step: int, n_steps: int) -> np.ndarray:
    """The schedule for steps first_step .. first_step + n_steps - 1 (fast, then slow)."""
    steps = first_step + np.arange(n_steps)
    return np.where(steps < adaptation.switch_step, adaptation.lr_fast, adaptation.lr_slow)


def _inverse_activation(params: ReservoirParams, rates: np.ndarray) -> np.ndarray:
    """The input current V at which a unit fires at ``rates``: f(gain (V - threshold)) = rates."""
    eps = 1e-6
    if params.activation == "sigmoid":
        r = np.clip(rates, eps, 1 - eps)
        a = np.log(r / (1 - r))
    elif params.activation == "tanh":
        a = np.arctanh(np.clip(rates, -1 + eps, 1 - eps))
    else:
        a = rates
    return a / params.gain + params.threshold


def one_step_design(topology: Topology, params: ReservoirParams, targets: np.ndarray,
                    mean_input: np.ndarray | float = 0.0) -> np.ndarray:
    """Inhibitory row scales omega_i that make rho a fixed point of the mean dynamics.

    Solves A_E rho - omega_i (A_I rho)_i + gap + W_in u_mean = f^{-1}(rho) for omega_i.
    Neurons without inhibitory inputs keep omega = params.balance; omega is floored at 0 so the
    design never flips an inhibitory synapse into an excitatory one (Dale's law).
    """
    u = np.broadcast_to(np.asarray(mean_input, dtype=float), (topology.w_in.shape[1],))
    inh_drive = topology.inh @ targets
    gap = params.gap_scale * (topology.gap_laplacian() @ targets)
    wanted = _inverse_activation(params, targets)
    numerator = topology.exc @ targets + gap + topology.w_in @ u - wanted
    omega = np.full(topology.n, params.balance)
    has_inh = inh_drive > 1e-12
    omega[has_inh] = numerator[has_inh] / inh_drive[has_inh]
    return np.maximum(omega, 0.0)
