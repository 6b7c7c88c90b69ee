"""Step-wise runners: BatchedReservoir (B reservoirs sharing a topology) and Reservoir (B = 1).

Both keep an explicit state (rates X, inhibitory scales S, adaptive offsets D, step counter)
and advance it with ``step(n, inputs)``, which returns a Trace of the n new steps. Snapshots
are plain copies, so a room can rewind cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engines.errors import DivergenceError, InvalidInputError
from engines.reservoir import kernel, simd
from engines.reservoir.adaptation import ADAPTATION_MODES, draw_targets, learning_rates, one_step_design
from engines.reservoir.params import AdaptationParams, InvalidParameterError, ReservoirParams
from engines.reservoir.topology import Topology, random_ei

RUNAWAY_LIMIT = 1e6   # |input current| or |rate| above this is runaway activity
_KINDS = {"sigmoid": kernel.SIGMOID, "tanh": kernel.TANH, "linear": kernel.LINEAR}


class InvalidSeriesError(InvalidInputError):
    """An input series with the wrong shape or with NaN / infinite values."""


class RunawayActivityError(DivergenceError):
    """Activity exploded; the reservoir keeps its last good state (``trace`` holds the good steps)."""

    def __init__(self, message: str, trace: "Trace"):
        super().__init__(message)
        self.trace = trace


@dataclass
class Trace:
    """Observables of consecutive steps. Arrays are (steps, N, B), or (steps, N) for a Reservoir."""
    rates: np.ndarray
    exc_current: np.ndarray | None
    inh_current: np.ndarray | None
    inputs: np.ndarray          # (steps, n_inputs)
    targets: np.ndarray | None  # (N, B) or (N,)
    first_step: int

    @property
    def population_mean(self) -> np.ndarray:
        return self.rates.mean(axis=1)

    @property
    def population_var(self) -> np.ndarray:
        return self.rates.var(axis=1)

    @property
    def target_error(self) -> np.ndarray | None:
        """Mean over neurons of |r_i - rho_i| per step."""
        if self.targets is None:
            return None
        return np.abs(self.rates - self.targets[None]).mean(axis=1)

    def squeeze(self) -> "Trace":
        pick = lambda a: None if a is None else a[..., 0]
        return Trace(pick(self.rates), pick(self.exc_current), pick(self.inh_current),
                     self.inputs, pick(self.targets), self.first_step)


@dataclass
class State:
    rates: np.ndarray
    inh_scale: np.ndarray
    inh_offset: np.ndarray
    adapt_on: np.ndarray
    step: int
    last_input: np.ndarray
    designed: np.ndarray | None = None   # (B,) bool: inhibition set by the one-step design


def _csr_arrays(matrix: sp.csr_matrix, index_dtype=np.int64):
    m = sp.csr_matrix(matrix, dtype=np.float64)
    m.sort_indices()
    return m.indptr.astype(index_dtype), m.indices.astype(index_dtype), np.ascontiguousarray(m.data)


class BatchedReservoir:
    """B reservoirs on one topology, each with its own balance g_b and adaptation switch."""

    def __init__(self, params: ReservoirParams, balances=None, adaptive=False,
                 adaptation: AdaptationParams | None = None, topology: Topology | None = None,
                 targets: np.ndarray | None = None):
        self.params = params
        self.topology = topology if topology is not None else random_ei(params)
        self.adaptation = adaptation if adaptation is not None else AdaptationParams()
        balances = np.atleast_1d(np.asarray(params.balance if balances is None else balances, dtype=float))
        if balances.ndim != 1 or not np.all(np.isfinite(balances)) or np.any(balances < 0):
            raise InvalidInputError(f"balances must be finite numbers >= 0, got {balances}")
        self.balances = balances
        self.n, self.batch = self.topology.n, len(balances)
        if targets is None:
            targets = draw_targets(self.adaptation, self.n, seed=params.seed + 1)
        self.targets = np.ascontiguousarray(np.broadcast_to(
            np.asarray(targets, dtype=float).reshape(self.n, -1), (self.n, self.batch)))
        self._adaptive_default = np.broadcast_to(np.asarray(adaptive, dtype=bool), (self.batch,)).copy()
        self._exc = _csr_arrays(self.topology.exc)
        self._inh = _csr_arrays(self.topology.inh)
        self._gap = _csr_arrays(self.topology.gap)
        self._gap_degree = np.asarray(self.topology.gap.sum(axis=1), dtype=float).ravel()
        inh = sp.csr_matrix(self.topology.inh)
        row_min = np.full(self.n, 0.0)
        for i in range(self.n):
            row = inh.data[inh.indptr[i]:inh.indptr[i + 1]]
            row_min[i] = row.min() if row.size else 0.0
        self._inh_row_min = row_min
        self._w_in = np.ascontiguousarray(self.topology.w_in, dtype=float)
        # the fast kernels' layout (see kernel.py): CSR with uint32 indices (no wrap-around checks)
        self._exc32 = _csr_arrays(self.topology.exc, np.uint32)
        self._inh32 = _csr_arrays(self.topology.inh, np.uint32)
        self._gap32 = _csr_arrays(self.topology.gap, np.uint32)
        self._fixed = None          # (S, D, CSR of the effective matrix) for rates-only static runs
        self._f32 = None            # float32 CSR weights of the large-batch path
        self.reset()

    # --- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Rates to zero, inhibition back to the global balance, adaptation offsets cleared."""
        self.rates = np.zeros((self.n, self.batch))
        self.inh_scale = np.tile(self.balances, (self.n, 1))
        self.inh_offset = np.zeros((self.n, self.batch))
        self.adapt_on = self._adaptive_default.copy()
        self.designed = np.zeros(self.batch, dtype=bool)
        self._design_input = 0.0
        self.step_count = 0
        self.last_input = np.zeros(self.topology.w_in.shape[1])

    def reset_activity(self) -> None:
        """Rates to zero only; the learned inhibition (S, D) and the step counter are kept."""
        self.rates = np.zeros((self.n, self.batch))
        self.last_input = np.zeros(self.topology.w_in.shape[1])

    def snapshot(self) -> State:
        return State(self.rates.copy(), self.inh_scale.copy(), self.inh_offset.copy(),
                     self.adapt_on.copy(), self.step_count, self.last_input.copy(), self.designed.copy())

    def restore(self, state: State) -> None:
        self.rates, self.inh_scale = state.rates.copy(), state.inh_scale.copy()
        self.inh_offset, self.adapt_on = state.inh_offset.copy(), state.adapt_on.copy()
        self.step_count, self.last_input = state.step, state.last_input.copy()
        if state.designed is not None:
            self.designed = state.designed.copy()

    def set_adaptation(self, on) -> None:
        """Switch the local rule on or off (bool or one bool per reservoir), mid-run if wanted;
        what it learned so far is kept (frozen while off)."""
        self.adapt_on = np.broadcast_to(np.asarray(on, dtype=bool), (self.batch,)).copy()

    def design_inhibition(self, mean_input=0.0, which=None) -> np.ndarray:
        """One-step design: set inhibitory row scales so the targets are a fixed point."""
        cols = range(self.batch) if which is None else np.atleast_1d(which)
        self._design_input = mean_input
        for b in cols:
            self.inh_scale[:, b] = one_step_design(self.topology, self.params, self.targets[:, b], mean_input)
            self.inh_offset[:, b] = 0.0
            self.designed[b] = True
        return self.inh_scale

    # --- live settings: each acts on a running reservoir and keeps its activity --------------
    def set_balance(self, balance: float) -> None:
        """The global balance g = I/E of every reservoir in the batch. Inhibition the local rule
        learned is kept (it learns on from g); a one-step design is made again."""
        if not (np.isfinite(balance) and balance >= 0):
            raise InvalidParameterError(f"the balance g must be a finite number >= 0, got {balance!r}")
        self.params = self.params.with_(balance=float(balance))
        self.balances = np.full(self.batch, self.params.balance)
        self.inh_scale[:, ~self.designed] = self.params.balance
        self._redesign()

    def set_gain(self, gain: float) -> None:
        """The slope c of the activation f(c (V - threshold)); a one-step design is made again."""
        self.params = self.params.with_(gain=float(gain))
        self._redesign()

    def set_adaptation_mode(self, mode: str) -> None:
        """How every neuron's inhibition is set, for every reservoir in the batch (ADAPTATION_MODES):
        "off": at the global balance g (what the local rule learned is forgotten); "local rule":
        learned toward the neuron's target rate, from g and what was learned so far; "one-step":
        designed once so that the targets are a fixed point (for a zero-mean input, or the mean
        input given to ``design_inhibition``)."""
        if mode not in ADAPTATION_MODES:
            raise InvalidParameterError(f"adaptation mode must be one of {ADAPTATION_MODES}, got {mode!r}")
        self.set_adaptation(mode == "local rule")
        if mode == "one-step":
            self.design_inhibition(self._design_input)
            return
        self.designed[:] = False
        self.inh_scale[:] = self.balances[None, :]
        if mode == "off":
            self.inh_offset[:] = 0.0

    @property
    def adaptation_mode(self) -> str:
        """The mode of the first reservoir (of every one, after ``set_adaptation_mode``)."""
        if self.designed[0]:
            return "one-step"
        return "local rule" if self.adapt_on[0] else "off"

    def _redesign(self) -> None:
        if self.designed.any():
            self.design_inhibition(self._design_input, np.flatnonzero(self.designed))

    # --- stepping ----------------------------------------------------------------------------
    def _inputs(self, n_steps: int | None, inputs) -> np.ndarray:
        n_in = self.topology.w_in.shape[1]
        if inputs is None:
            if n_steps is None or n_steps < 0:
                raise InvalidSeriesError("give either a number of steps or an input series")
            return np.zeros((n_steps, n_in))
        u = np.asarray(inputs, dtype=float)
        if u.ndim == 1:
            u = u[:, None]
        if u.ndim != 2 or u.shape[1] != n_in:
            raise InvalidSeriesError(f"inputs must have shape (steps, {n_in}), got {np.shape(inputs)}")
        if n_steps is not None and u.shape[0] != n_steps:
            raise InvalidSeriesError(f"asked for {n_steps} steps but the input series has {u.shape[0]}")
        if not np.all(np.isfinite(u)):
            bad = int(np.flatnonzero(~np.isfinite(u).all(axis=1))[0])
            raise InvalidSeriesError(f"the input series contains NaN or infinite values (first at step {bad})")
        return np.ascontiguousarray(u)

    def step(self, n_steps: int | None = None, inputs=None, record_currents: bool = True) -> Trace:
        """Advance every reservoir n steps (zero input unless ``inputs`` (n, n_inputs) is given)."""
        u = self._inputs(n_steps, inputs)
        n = u.shape[0]
        rates = np.empty((n, self.n, self.batch), dtype=np.float32)
        shape = (n, self.n, self.batch) if record_currents else (0, self.n, self.batch)
        exc, inh = np.empty(shape, dtype=np.float32), np.empty(shape, dtype=np.float32)
        lr = learning_rates(self.adaptation, self.step_count, n)
        done = self._advance(u, lr, rates, exc, inh, record_currents)
        trace = Trace(rates[:done], exc[:done] if record_currents else None,
                      inh[:done] if record_currents else None, u[:done], self.targets, self.step_count)
        self.step_count += done
        if done:
            self.last_input = u[done - 1].copy()
        if done < n:
            raise RunawayActivityError(
                f"runaway activity at step {self.step_count}: an input current or rate exceeded "
                f"{RUNAWAY_LIMIT:g} (or became NaN). The reservoir is stopped at its last good state; "
                "lower the gain, raise inhibition (g) or use a bounded activation.", trace)
        return trace

    _reference = False   # True: always use kernel.run_steps (the reference loop; for tests)

    def _advance(self, u, lr, rates, exc, inh, record_currents) -> int:
        """Run the kernel that suits this batch; every path computes the same model."""
        p = self.params
        self._ensure_state_layout()
        tail = (self._w_in, u, _KINDS[p.activation], float(p.gain), float(p.threshold), float(p.leak),
                RUNAWAY_LIMIT, rates, exc, inh, record_currents)
        if self._reference:
            return kernel.run_steps(self.rates, self.inh_scale, self.inh_offset, self.targets, self.adapt_on,
                                    lr, self._inh_row_min, *self._exc, *self._inh, *self._gap, self._gap_degree,
                                    float(p.gap_scale), *tail)
        if self.batch > 1:
            # float32 with simd.py's row sums: B = 2 already matches two float64 single runs
            return self._advance_f32(u, lr, rates, exc, inh, record_currents)
        adapting = bool(self.adapt_on[0]) and bool(np.any(lr != 0.0))
        x, s, d = self.rates[:, 0].copy(), self.inh_scale[:, 0].copy(), self.inh_offset[:, 0].copy()
        if not adapting and not record_currents:
            # weights stay fixed for the whole call: one sparse pass with the effective matrix
            empty = (np.zeros(self.n + 1, np.uint32), np.zeros(0, np.uint32), np.zeros(0))
            args = (*self._fixed_csr(s, d), *empty, *empty, self._gap_degree, 0.0)
        else:
            args = (*self._exc32, *self._inh32, *self._gap32, self._gap_degree, float(p.gap_scale))
        done = kernel.run_steps_single(x, s, d, self.targets[:, 0], bool(self.adapt_on[0]), lr,
                                       self._inh_row_min, *args, *tail[:-4],
                                       rates[:, :, 0], exc[:, :, 0], inh[:, :, 0], record_currents)
        self.rates[:, 0], self.inh_offset[:, 0] = x, d
        return done

    def _advance_f32(self, u, lr, rates, exc, inh, record_currents) -> int:
        """Larger batches: float32 state padded to a multiple of simd.LANES reservoirs, simd.py's
        row sums (kernel.batch32_run); the float64 state gets the last good step back."""
        p = self.params
        if self._f32 is None:
            self._f32 = tuple((ptr, idx, w.astype(np.float32)) for ptr, idx, w in (self._exc32, self._inh32, self._gap32))
        padded = -(-self.batch // simd.LANES) * simd.LANES

        def f32(a):
            out = np.zeros((self.n, padded), np.float32)
            out[:, :self.batch] = a
            return out
        X, S, D, rho = f32(self.rates), f32(self.inh_scale), f32(self.inh_offset), f32(self.targets)
        done = kernel.batch32_run(X, S, D, rho, self.adapt_on, lr, self._inh_row_min,
                                  *(a for arrays in self._f32 for a in arrays), self._gap_degree,
                                  float(p.gap_scale), self._w_in, u, _KINDS[p.activation], float(p.gain),
                                  float(p.threshold), float(p.leak), RUNAWAY_LIMIT, rates, exc, inh,
                                  record_currents, *simd.kernels())
        self.rates[:] = X[:, :self.batch]
        if self.adapt_on.any() and np.any(lr[:done] != 0.0):
            self.inh_offset[:] = D[:, :self.batch]
        return done

    def _ensure_state_layout(self) -> None:
        """The kernels need C-contiguous float64 state; a room may have assigned other arrays."""
        for name in ("rates", "inh_scale", "inh_offset", "targets"):
            value = getattr(self, name)
            if value.dtype != np.float64 or not value.flags.c_contiguous or not value.flags.writeable:
                setattr(self, name, np.ascontiguousarray(value, dtype=np.float64).copy())
        self.adapt_on = np.ascontiguousarray(self.adapt_on, dtype=bool)

    def _fixed_csr(self, s: np.ndarray, d: np.ndarray):
        """CSR arrays of the effective matrix for inhibitory scales s and offsets d (cached)."""
        if self._fixed is not None and np.array_equal(self._fixed[0], s) and np.array_equal(self._fixed[1], d):
            return self._fixed[2]
        topo = self.topology
        mask = topo.inh.copy()
        mask.data[:] = 1.0
        w = topo.exc - sp.diags(s) @ topo.inh - sp.diags(d) @ mask
        if self.params.gap_scale:
            w = w + self.params.gap_scale * topo.gap_laplacian()
        self._fixed = (s.copy(), d.copy(), _csr_arrays(sp.csr_matrix(w), np.uint32))
        return self._fixed[2]

    def run(self, inputs) -> np.ndarray:
        """Rates (T, N, B) for an input series, without recording currents."""
        return self.step(inputs=inputs, record_currents=False).rates

    # --- linearisation -----------------------------------------------------------------------
    def effective_weights(self, b: int = 0) -> sp.csr_matrix:
        """The signed recurrent matrix reservoir b uses now (adaptation and gap junctions folded in)."""
        topo = self.topology
        mask = topo.inh.copy()
        mask.data[:] = 1.0
        w = topo.exc - sp.diags(self.inh_scale[:, b]) @ topo.inh - sp.diags(self.inh_offset[:, b]) @ mask
        if self.params.gap_scale:
            w = w + self.params.gap_scale * topo.gap_laplacian()
        return sp.csr_matrix(w)

    def jacobian(self, b: int = 0) -> np.ndarray:
        """d x(t+1) / d x(t) at the current state and last input: (1-leak) I + leak diag(f') W."""
        p = self.params
        w = self.effective_weights(b)
        v = w @ self.rates[:, b] + self._w_in @ self.last_input
        a = p.gain * (v - p.threshold)
        if p.activation == "sigmoid":
            s = 1.0 / (1.0 + np.exp(-np.clip(a, -500, 500)))
            slope = p.gain * s * (1 - s)
        elif p.activation == "tanh":
            slope = p.gain * (1 - np.tanh(a) ** 2)
        else:
            slope = np.full(self.n, p.gain)
        return (1 - p.leak) * np.eye(self.n) + p.leak * (slope[:, None] * w.toarray())


class Reservoir(BatchedReservoir):
    """A single reservoir (B = 1): the same API with (steps, N) arrays in its traces."""

    def __init__(self, params: ReservoirParams, adaptive: bool = False,
                 adaptation: AdaptationParams | None = None, topology: Topology | None = None,
                 targets: np.ndarray | None = None):
        super().__init__(params, [params.balance], adaptive, adaptation, topology, targets)

    def step(self, n_steps: int | None = None, inputs=None, record_currents: bool = True) -> Trace:
        try:
            return super().step(n_steps, inputs, record_currents).squeeze()
        except RunawayActivityError as error:
            error.trace = error.trace.squeeze()
            raise

    def run(self, inputs) -> np.ndarray:
        return self.step(inputs=inputs, record_currents=False).rates
