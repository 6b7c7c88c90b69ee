"""reservoirpy interop: export a reservoir's W and W_in, and drive reservoirpy with our task code."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engines.reservoir.simulator import BatchedReservoir


class _Activation:
    """f(gain (v - threshold)) as a picklable callable (reservoirpy deep-copies models)."""

    def __init__(self, kind: str, gain: float, threshold: float):
        self.kind, self.gain, self.threshold = kind, gain, threshold

    def __call__(self, v):
        a = self.gain * (np.asarray(v) - self.threshold)
        if self.kind == "sigmoid":
            return 0.5 * (1.0 + np.tanh(0.5 * a))
        if self.kind == "tanh":
            return np.tanh(a)
        return a


def to_reservoirpy(reservoir: BatchedReservoir, b: int = 0):
    """A reservoirpy Reservoir node with reservoir b's current effective W, W_in and activation.

    Adaptation offsets and gap junctions are folded into W, so the node reproduces the static
    dynamics at this moment (with adaptation frozen).
    """
    from reservoirpy.nodes import Reservoir as RpyReservoir
    p = reservoir.params
    w = sp.csr_matrix(reservoir.effective_weights(b))
    return RpyReservoir(W=w, Win=np.array(reservoir.topology.w_in, dtype=float), bias=0.0, lr=p.leak,
                        activation=_Activation(p.activation, p.gain, p.threshold))


def reservoirpy_esn(n: int, seed: int = 0, spectral_radius: float = 0.9, input_scaling: float = 1.0,
                    connectivity: float = 0.1, leak: float = 1.0):
    """A standard tanh ESN from reservoirpy (its own initialisers), the usual peer."""
    from reservoirpy.nodes import Reservoir as RpyReservoir
    return RpyReservoir(n, sr=spectral_radius, input_scaling=input_scaling, rc_connectivity=connectivity,
                        input_connectivity=connectivity, lr=leak, seed=seed)


class ReservoirpyDriver:
    """Adapts a reservoirpy node to the tasks' Driver protocol (reset_activity / run)."""

    def __init__(self, node):
        self.node = node

    def reset_activity(self) -> None:
        if self.node.initialized:
            self.node.reset()

    def run(self, inputs) -> np.ndarray:
        return np.asarray(self.node.run(np.asarray(inputs, dtype=float).reshape(len(inputs), -1)))
