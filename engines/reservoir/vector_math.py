"""Activations that numba can vectorise: sigmoid and tanh over whole arrays, float32 and float64.

numba here has no SVML, so a loop calling ``math.exp`` runs libm's scalar exp one element at a
time, which dominated the reservoir step. These exps are branch-free polynomials (Cody-Waite
reduction x = n ln2 + r, then 2^n built from its exponent bits), so LLVM turns the loops into
AVX-512 / AVX2 code. The kernels use ``error_model="numpy"``: numba's default division check
(ZeroDivisionError) is a branch that stops a loop from vectorising.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

SIGMOID, TANH, LINEAR = 0, 1, 2

_JIT = dict(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The low 32 bits of an integer, reinterpreted as a float32 (a register move)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())
    return types.float32(bits), codegen


@intrinsic
def _float64_from_bits(typingctx, bits):
    """A 64-bit integer reinterpreted as a float64."""
    if not isinstance(bits, types.Integer) or bits.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


@numba.njit(**_JIT, inline="always")
def exp32(x):
    """exp(x) in float32 for x in [-87, 87] (clamped), < 2 ulp."""
    x = min(max(x, np.float32(-87.0)), np.float32(87.0))
    n = (x * np.float32(1.44269504) + np.float32(12582912.0)) - np.float32(12582912.0)  # round(x / ln2)
    r = x - n * np.float32(0.693359375) - n * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1.0)
    return p * _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(**_JIT, inline="always")
def exp64(x):
    """exp(x) in float64 for x in [-700, 700] (clamped), ~1 ulp (degree-13 Taylor on |r| <= ln2/2)."""
    x = min(max(x, -700.0), 700.0)
    n = (x * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0         # round(x / ln2)
    r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _float64_from_bits((np.int64(n) + np.int64(1023)) << np.int64(52))


@numba.njit(**_JIT)
def activate32(kind, a, out):
    """out = f(a) on flat float32 arrays; one loop per kind so each vectorises.

    tanh(a) = sign(a) (1 - e) / (1 + e) with e = exp(-2|a|): absolute error ~1e-7. Arguments
    are clamped to |a| <= 40 (sigmoid) / 20 (tanh), where f is within 1e-17 of its limit: far
    below float32 resolution, and it keeps tiny rates (and their products with weights) out of
    the subnormal range, where arithmetic is ~100x slower.
    """
    one, lim = np.float32(1.0), np.float32(40.0)
    if kind == SIGMOID:
        for k in range(a.shape[0]):
            out[k] = one / (one + exp32(-min(max(a[k], -lim), lim)))
    elif kind == TANH:
        for k in range(a.shape[0]):
            e = exp32(max(np.float32(-2.0) * abs(a[k]), -lim))
            out[k] = math.copysign((one - e) / (one + e), a[k])
    else:
        out[:] = a


@numba.njit(**_JIT)
def activate64(kind, gain, threshold, v, out):
    """out = f(gain (v - threshold)) on flat float64 arrays (clamped like activate32, at |a| <= 600
    for sigmoid and 300 for tanh: f is then within 1e-260 of its limit).

    tanh uses 1 - 2 / (1 + exp(2a)) for |a| >= 0.2 and its odd Taylor series below (to a^19), so
    small arguments keep full relative precision (< 1e-15).
    """
    if kind == SIGMOID:
        for k in range(v.shape[0]):
            a = min(max(gain * (v[k] - threshold), -600.0), 600.0)
            out[k] = 1.0 / (1.0 + exp64(-a))
    elif kind == TANH:
        for k in range(v.shape[0]):
            a = gain * (v[k] - threshold)
            b = min(abs(a), 300.0)
            large = 1.0 - 2.0 / (1.0 + exp64(2.0 * b))
            s = b * b                                   # odd Taylor series of tanh, Horner in b^2
            q = -443861162.0 / 1856156927625
            q = q * s + 6404582.0 / 10854718875
            q = q * s - 929569.0 / 638512875
            q = q * s + 21844.0 / 6081075
            q = q * s - 1382.0 / 155925
            q = q * s + 62.0 / 2835
            q = q * s - 17.0 / 315
            q = q * s + 2.0 / 15
            q = q * s - 1.0 / 3
            small = b + b * s * q
            out[k] = math.copysign(small if b < 0.2 else large, a)
    else:
        for k in range(v.shape[0]):
            out[k] = gain * (v[k] - threshold)
