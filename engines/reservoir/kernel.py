"""The compiled inner loop: n steps of a batch of reservoirs sharing one sparse topology.

One call advances every reservoir (columns of X) by n steps without returning to Python, so a
single N=500 reservoir and a batch of 64 both run at memory speed on one core. Sparse rows are
CSR arrays (indptr, indices, data); rows are postsynaptic neurons.

V[i, b] = (A_E x)_i - S[i, b] (A_I x)_i - D[i, b] (M_I x)_i + gap (G x - deg x)_i + (W_in u)_i
x'[i, b] = (1 - leak) x[i, b] + leak * f(gain * (V - threshold))
S holds the per-reservoir inhibitory scale (balance g, or the one-step design), D the additive
offset that the local rule moves (M_I is the 0/1 mask of inhibitory inputs).
"""
from __future__ import annotations

import math

import numba
import numpy as np

SIGMOID, TANH, LINEAR = 0, 1, 2


@numba.njit(cache=True, nogil=True, inline="always")
def _activate(kind: int, a: float) -> float:
    if kind == SIGMOID:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        z = math.exp(a)
        return z / (1.0 + z)
    if kind == TANH:
        return math.tanh(a)
    return a


@numba.njit(cache=True, nogil=True, inline="always")
def _row_single(i, x1, e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w):
    e = 0.0
    for p in range(e_ptr[i], e_ptr[i + 1]):
        e += e_w[p] * x1[e_idx[p]]
    inh = 0.0
    m = 0.0
    for p in range(i_ptr[i], i_ptr[i + 1]):
        x = x1[i_idx[p]]
        inh += i_w[p] * x
        m += x
    g = 0.0
    for p in range(g_ptr[i], g_ptr[i + 1]):
        g += g_w[p] * x1[g_idx[p]]
    return e, inh, m, g


@numba.njit(cache=True, nogil=True, inline="always")
def _row_batch(i, X, e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w, e_acc, i_acc, m_acc, g_acc):
    B = X.shape[1]
    e_acc[:] = 0.0
    i_acc[:] = 0.0
    m_acc[:] = 0.0
    g_acc[:] = 0.0
    for p in range(e_ptr[i], e_ptr[i + 1]):
        j = e_idx[p]
        w = e_w[p]
        for b in range(B):
            e_acc[b] += w * X[j, b]
    for p in range(i_ptr[i], i_ptr[i + 1]):
        j = i_idx[p]
        w = i_w[p]
        for b in range(B):
            i_acc[b] += w * X[j, b]
            m_acc[b] += X[j, b]
    for p in range(g_ptr[i], g_ptr[i + 1]):
        j = g_idx[p]
        w = g_w[p]
        for b in range(B):
            g_acc[b] += w * X[j, b]


@numba.njit(cache=True, nogil=True)
def run_steps(X, S, D, rho, adapt_on, lr, d_floor,
              e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w, g_deg, gap_scale,
              w_in, U, kind, gain, threshold, leak, limit,
              out_rates, out_exc, out_inh, record_currents):
    """Advance X (N, B) in place by U.shape[0] steps; return how many steps completed.

    A step whose input current or rate is non-finite or exceeds ``limit`` in magnitude stops
    the loop before anything is written, so X, D hold the last good state.
    """
    n_steps = U.shape[0]
    N, B = X.shape
    n_in = U.shape[1]
    x_new = np.empty((N, B))
    e_acc = np.empty(B)
    i_acc = np.empty(B)
    m_acc = np.empty(B)
    g_acc = np.empty(B)
    x_single = np.empty(N)
    for t in range(n_steps):
        if B == 1:
            x_single[:] = X[:, 0]
        for i in range(N):
            if B == 1:
                # scalar accumulators stay in registers: the single-reservoir fast path
                e0, i0, m0, g0 = _row_single(i, x_single, e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w)
                e_acc[0], i_acc[0], m_acc[0], g_acc[0] = e0, i0, m0, g0
            else:
                _row_batch(i, X, e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w,
                           e_acc, i_acc, m_acc, g_acc)
            drive = 0.0
            for k in range(n_in):
                drive += w_in[i, k] * U[t, k]
            for b in range(B):
                inh = S[i, b] * i_acc[b] + D[i, b] * m_acc[b]
                v = e_acc[b] - inh + drive + gap_scale * (g_acc[b] - g_deg[i] * X[i, b])
                if not abs(v) < limit:
                    return t
                y = (1.0 - leak) * X[i, b] + leak * _activate(kind, gain * (v - threshold))
                if not abs(y) < limit:
                    return t
                x_new[i, b] = y
                if record_currents:
                    out_exc[t, i, b] = e_acc[b]
                    out_inh[t, i, b] = inh
        X[:, :] = x_new
        rate = lr[t]
        for i in range(N):
            for b in range(B):
                if adapt_on[b] and rate != 0.0:
                    d = D[i, b] + rate * (X[i, b] - rho[i, b])
                    # keep every effective inhibitory weight >= 0 (Dale's law)
                    floor = -S[i, b] * d_floor[i]
                    D[i, b] = d if d > floor else floor
                out_rates[t, i, b] = X[i, b]
    return n_steps
