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

from engines.reservoir.vector_math import LINEAR, SIGMOID, TANH, activate32, activate64  # noqa: F401


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


# --- fast kernels ------------------------------------------------------------------------------
# Same model and step semantics as ``run_steps`` (which stays as the reference), organised for
# SIMD on one core:
#   * one reservoir: CSR rows with unsigned indices, each row summed in four independent
#     partial sums. When the weights are fixed (no adaptation, no recorded currents) the E, I,
#     offset and gap terms are folded into one effective matrix, so a step is one sparse pass.
#   * a batch (B >= 2): float32 rows of X (N, B), summed by simd.py (see batch32_run below).
#   * the activation is evaluated on whole blocks after the runaway check, with vector_math's
#     vectorised exp (the reference calls libm's scalar exp per element).
@numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def _n_runaway(a, limit):
    """How many entries are non-finite or >= limit in magnitude (a vectorisable count)."""
    n = 0
    for k in range(a.shape[0]):
        n += 0 if abs(a[k]) < limit else 1
    return n


@numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _row_dot(ptr, idx, w, x, i):
    """sum_p w[p] x[idx[p]] over row i in four independent partial sums (an add waits ~4 cycles
    on its predecessor; four chains keep the loads busy). idx must be unsigned: numba then
    skips the negative-index wrap-around, which otherwise doubles the cost of each synapse."""
    a0 = a1 = a2 = a3 = 0.0
    p, end = ptr[i], ptr[i + 1]
    while p + 4 <= end:
        a0 += w[p] * x[idx[p]]
        a1 += w[p + 1] * x[idx[p + 1]]
        a2 += w[p + 2] * x[idx[p + 2]]
        a3 += w[p + 3] * x[idx[p + 3]]
        p += 4
    while p < end:
        a0 += w[p] * x[idx[p]]
        p += 1
    return (a0 + a1) + (a2 + a3)


@numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _row_dot_and_sum(ptr, idx, w, x, i):
    """(sum_p w[p] x[idx[p]], sum_p x[idx[p]]) over row i: the inhibitory input and its 0/1-mask sum."""
    a0 = a1 = m0 = m1 = 0.0
    p, end = ptr[i], ptr[i + 1]
    while p + 2 <= end:
        x0, x1 = x[idx[p]], x[idx[p + 1]]
        a0 += w[p] * x0
        a1 += w[p + 1] * x1
        m0 += x0
        m1 += x1
        p += 2
    if p < end:
        x0 = x[idx[p]]
        a0 += w[p] * x0
        m0 += x0
    return a0 + a1, m0 + m1


@numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def run_steps_single(x, S, D, rho, adapt_on, lr, d_floor,
                     e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, g_ptr, g_idx, g_w, g_deg, gap_scale,
                     w_in, U, kind, gain, threshold, leak, limit,
                     out_rates, out_exc, out_inh, record_currents):
    """One reservoir (x, S, D of shape (N,)); CSR rows with unsigned (uint32) indices.

    Returns the steps done; like ``run_steps`` a runaway step writes nothing (x, D keep the last
    good state).
    """
    n_steps = U.shape[0]
    N = x.shape[0]
    n_in = U.shape[1]
    xs = x.copy()
    w_in_t = np.ascontiguousarray(w_in.T)
    e = np.empty(N)
    ih = np.zeros(N)
    v = np.empty(N)
    y = np.empty(N)
    has_inh, has_gap = i_ptr[N] > 0, g_ptr[N] > 0
    done = n_steps
    for t in range(n_steps):
        for i in range(N):
            e[i] = _row_dot(e_ptr, e_idx, e_w, xs, i)
        if has_inh:
            for i in range(N):
                dot, total = _row_dot_and_sum(i_ptr, i_idx, i_w, xs, i)
                ih[i] = S[i] * dot + D[i] * total
        for i in range(N):
            v[i] = e[i] - ih[i]
        for q in range(n_in):
            uq, wq = U[t, q], w_in_t[q]
            for i in range(N):
                v[i] += wq[i] * uq
        if has_gap:
            for i in range(N):
                v[i] += gap_scale * (_row_dot(g_ptr, g_idx, g_w, xs, i) - g_deg[i] * xs[i])
        if _n_runaway(v, limit):
            done = t
            break
        activate64(kind, gain, threshold, v, y)
        if leak != 1.0:
            for i in range(N):
                y[i] = (1.0 - leak) * xs[i] + leak * y[i]
        if _n_runaway(y, limit):
            done = t
            break
        if record_currents:
            for i in range(N):
                out_exc[t, i] = e[i]
                out_inh[t, i] = ih[i]
        for i in range(N):
            xs[i] = y[i]
            out_rates[t, i] = y[i]
        rate = lr[t]
        if adapt_on and rate != 0.0:
            for i in range(N):
                d = D[i] + rate * (y[i] - rho[i])
                floor = -S[i] * d_floor[i]
                D[i] = max(d, floor)
    x[:] = xs
    return done


# --- float32 batch path ------------------------------------------------------------------------
# A batch of B reservoirs entirely in float32 during a call (rates X, scales S, offsets D, targets
# rho; the caller converts from / back to its float64 state, and pads B to a multiple of
# simd.LANES). The sparse row sums are simd.py's register-blocked kernels (one vector
# multiply-add per 16 reservoirs and synapse); everything else is elementwise over (N, B) and
# vectorised by numba, including the activation (vector_math.activate32).
@numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def batch32_run(X, S, D, rho, adapt_on, lr, d_floor, e_ptr, e_idx, e_w, i_ptr, i_idx, i_w,
                g_ptr, g_idx, g_w, g_deg, gap_scale, w_in, U, kind, gain, threshold, leak, limit,
                out_rates, out_exc, out_inh, record_currents, row_sums, row_sums_masked):
    """Advance X (N, Bp) float32 in place by U.shape[0] steps; return the steps completed.

    Same model and step semantics as ``run_steps``: a step whose input current or new rate is
    non-finite or exceeds ``limit`` stops the loop, and X, D keep the last good state. The
    records (out_*, (T, N, B) with B <= Bp) get the first B reservoirs; the rest is padding.
    ``row_sums`` / ``row_sums_masked`` are simd.kernels().
    """
    n_steps = U.shape[0]
    N, Bp = X.shape
    B = out_rates.shape[2]
    n_in = U.shape[1]
    E = np.empty((N, Bp), np.float32)
    I = np.empty((N, Bp), np.float32)
    M = np.empty((N, Bp), np.float32)
    G = np.empty((N, Bp) if g_ptr[N] > 0 else (0, Bp), np.float32)
    A = np.empty((N, Bp), np.float32)
    Y = np.empty((N, Bp), np.float32)
    any_adapt = False
    for b in range(B):
        any_adapt = any_adapt or adapt_on[b]
    keep, lk = np.float32(1.0 - leak), np.float32(leak)
    gn, th, lim, gs = np.float32(gain), np.float32(threshold), np.float32(limit), np.float32(gap_scale)
    for t in range(n_steps):
        row_sums(E.ctypes.data, X.ctypes.data, Bp, e_ptr.ctypes.data, e_idx.ctypes.data, e_w.ctypes.data, N)
        row_sums_masked(I.ctypes.data, M.ctypes.data, X.ctypes.data, Bp, i_ptr.ctypes.data,
                        i_idx.ctypes.data, i_w.ctypes.data, N)
        if G.shape[0]:
            row_sums(G.ctypes.data, X.ctypes.data, Bp, g_ptr.ctypes.data, g_idx.ctypes.data, g_w.ctypes.data, N)
        n_bad = 0
        for i in range(N):
            drive = 0.0
            for q in range(n_in):
                drive += w_in[i, q] * U[t, q]
            d32 = np.float32(drive)
            e, ih, m, s, d, a = E[i], I[i], M[i], S[i], D[i], A[i]
            for b in range(Bp):
                inh = s[b] * ih[b] + d[b] * m[b]
                ih[b] = inh
                a[b] = e[b] - inh + d32
            if G.shape[0]:
                g, x, gd = G[i], X[i], np.float32(g_deg[i])
                for b in range(Bp):
                    a[b] += gs * (g[b] - gd * x[b])
            for b in range(B):               # padding lanes may do anything: not checked
                n_bad += 0 if abs(a[b]) < lim else 1
            for b in range(Bp):
                a[b] = gn * (a[b] - th)
        if n_bad:
            return t
        if record_currents:
            out_exc[t] = E[:, :B]
            out_inh[t] = I[:, :B]
        activate32(kind, A.reshape(N * Bp), Y.reshape(N * Bp))
        for i in range(N):
            x, y = X[i], Y[i]
            for b in range(Bp):
                y[b] = keep * x[b] + lk * y[b]
            for b in range(B):
                n_bad += 0 if abs(y[b]) < lim else 1
        if n_bad:
            return t
        X[:, :] = Y
        out_rates[t] = Y[:, :B]
        rate = lr[t]
        if any_adapt and rate != 0.0:
            r32 = np.float32(rate)
            for i in range(N):
                y_row, d_row, s_row, r_row = Y[i], D[i], S[i], rho[i]
                floor_i = np.float32(d_floor[i])
                for b in range(B):
                    d = d_row[b] + r32 * (y_row[b] - r_row[b])
                    floor = -s_row[b] * floor_i          # Dale's law: effective inhibition >= 0
                    d = d if d > floor else floor
                    d_row[b] = d if adapt_on[b] else d_row[b]
    return n_steps
