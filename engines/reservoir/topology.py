"""Network structure: random Dale's-law E/I graphs and the C. elegans connectome.

A Topology holds non-negative magnitudes: ``exc[i, j]`` is the excitatory weight from j onto i,
``inh[i, j]`` the inhibitory one, so the recurrent matrix at balance g is W = exc - g * inh.
Gap junctions are a symmetric coupling matrix acting on rate differences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engines.errors import InvalidInputError
from engines.reservoir.params import ReservoirParams


@dataclass(frozen=True)
class Topology:
    exc: sp.csr_matrix
    inh: sp.csr_matrix
    gap: sp.csr_matrix
    w_in: np.ndarray                      # (N, n_inputs)
    excitatory: np.ndarray | None = None  # (N,) bool; None when signs are per synapse (imported W)
    names: tuple[str, ...] | None = None

    @property
    def n(self) -> int:
        return self.exc.shape[0]

    def weights(self, balance: float = 1.0) -> sp.csr_matrix:
        """Signed recurrent matrix W = exc - g * inh (without gap junctions)."""
        return (self.exc - balance * self.inh).tocsr()

    def gap_laplacian(self) -> sp.csr_matrix:
        """The linear operator of the gap currents: (G r)_i - deg_i r_i."""
        degree = np.asarray(self.gap.sum(axis=1)).ravel()
        return (self.gap - sp.diags(degree)).tocsr()

    def mean_drive(self) -> tuple[float, float]:
        """Mean total E and I weight onto a neuron (equal when balanced by construction)."""
        return float(self.exc.sum(axis=1).mean()), float(self.inh.sum(axis=1).mean())


def _input_weights(n: int, params: ReservoirParams, rng: np.random.Generator) -> np.ndarray:
    """W_in ~ U[-s/2, s/2] on a random fraction of neurons, zero elsewhere."""
    w_in = rng.uniform(-params.input_scale / 2, params.input_scale / 2, size=(n, params.n_inputs))
    receives = rng.random(n) < params.frac_input
    w_in[~receives] = 0.0
    return w_in


def random_ei(params: ReservoirParams) -> Topology:
    """Random E/I graph: k presynaptic partners per neuron, |N(mu, cv mu)| weights.

    mu_E = 1 / (k f_E) and mu_I = (f_E / f_I) mu_E make the mean E and I drive onto a neuron
    equal (both 1), so the balance knob g alone sets I/E.
    """
    n, k = params.n, params.in_degree
    rng = np.random.default_rng(params.seed)
    n_exc = int(round(params.frac_excitatory * n))
    excitatory = np.zeros(n, dtype=bool)
    excitatory[rng.permutation(n)[:n_exc]] = True
    f_e = max(params.frac_excitatory, 1e-12)
    f_i = max(1.0 - params.frac_excitatory, 1e-12)
    mu_e = 1.0 / (k * f_e)
    mu_i = (f_e / f_i) * mu_e
    # k distinct presynaptic partners per row, no self-connections
    keys = rng.random((n, n))
    np.fill_diagonal(keys, np.inf)
    cols = np.argpartition(keys, k - 1, axis=1)[:, :k]
    cols.sort(axis=1)
    rows = np.repeat(np.arange(n), k)
    cols = cols.ravel()
    pre_exc = excitatory[cols]
    mu = np.where(pre_exc, mu_e, mu_i)
    w = np.abs(rng.normal(mu, params.weight_cv * mu))
    exc = sp.csr_matrix((w[pre_exc], (rows[pre_exc], cols[pre_exc])), shape=(n, n))
    inh = sp.csr_matrix((w[~pre_exc], (rows[~pre_exc], cols[~pre_exc])), shape=(n, n))
    gap = sp.csr_matrix((n, n))
    return Topology(exc, inh, gap, _input_weights(n, params, rng), excitatory)


def from_signed(weights, w_in) -> Topology:
    """Wrap an arbitrary signed W (e.g. an imported ESN) so the simulator can run it."""
    w = sp.csr_matrix(weights, dtype=float)
    w_in = np.asarray(w_in, dtype=float)
    if w.shape[0] != w.shape[1]:
        raise InvalidInputError(f"W must be square, got shape {w.shape}")
    if w_in.ndim == 1:
        w_in = w_in[:, None]
    if w_in.shape[0] != w.shape[0]:
        raise InvalidInputError(f"W_in has {w_in.shape[0]} rows but W has {w.shape[0]} neurons")
    exc = w.maximum(0).tocsr()
    inh = (-w).maximum(0).tocsr()
    return Topology(exc, inh, sp.csr_matrix(w.shape), w_in, None)


def celegans(params: ReservoirParams) -> Topology:
    """The hermaphrodite C. elegans connectome, read by ``engines.worms.connectome`` (the lab's
    one reader of the worm's anatomy) from cect's bundled cache (no network needed).

    A neuron is inhibitory when most of its outgoing chemical synapse count is GABAergic (Dale's
    law per neuron, from the transmitter atlas that table carries); chemical weights are synapse
    counts normalised so that the mean E and I drive are equal (balanced by construction, like
    random_ei). Gap junctions are the symmetric Generic_GJ counts, normalised to mean row sum 1
    and scaled by params.gap_scale in the simulator.
    """
    from engines.worms.connectome import transmitter_connectome
    anatomy = transmitter_connectome()
    excitatory = ~(anatomy.transmitter_share("GABA") > 0.5)
    post_pre = sum(anatomy.chemical.values()).T          # rows = postsynaptic
    exc = post_pre * excitatory[None, :]
    inh = post_pre * (~excitatory)[None, :]
    exc = exc / max(exc.sum(axis=1).mean(), 1e-12)
    inh = inh / max(inh.sum(axis=1).mean(), 1e-12)
    gap = 0.5 * (anatomy.gap + anatomy.gap.T)
    gap = gap / max(gap.sum(axis=1).mean(), 1e-12)
    n = len(anatomy.neurons)
    rng = np.random.default_rng(params.seed)
    return Topology(sp.csr_matrix(exc), sp.csr_matrix(inh), sp.csr_matrix(gap),
                    _input_weights(n, params, rng), excitatory, anatomy.neurons)
