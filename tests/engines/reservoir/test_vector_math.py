"""The vectorised activations agree with numpy's sigmoid / tanh and never return subnormals."""
import numpy as np
import pytest

from engines.reservoir import vector_math as vm


def _sigmoid(a):
    return 1 / (1 + np.exp(-np.clip(a, -700, 700)))


ARGUMENTS = np.concatenate([np.linspace(-800, 800, 40001), np.linspace(-1, 1, 20001), [0.0, 1e-300, -1e-300]])


@pytest.mark.parametrize("kind,reference", [(vm.SIGMOID, _sigmoid), (vm.TANH, np.tanh)])
def test_float64_activation_is_accurate(kind, reference):
    out = np.empty_like(ARGUMENTS)
    vm.activate64(kind, 2.0, 0.5, ARGUMENTS, out)
    expected = reference(2.0 * (ARGUMENTS - 0.5))
    np.testing.assert_allclose(out, expected, rtol=0, atol=4e-16)
    normal = np.abs(expected) > 1e-250           # below that the kernel clamps (documented)
    np.testing.assert_allclose(out[normal], expected[normal], rtol=2e-15)
    assert not np.any((out != 0) & (np.abs(out) < np.finfo(np.float64).tiny))


@pytest.mark.parametrize("kind,reference", [(vm.SIGMOID, _sigmoid), (vm.TANH, np.tanh)])
def test_float32_activation_is_accurate(kind, reference):
    a = ARGUMENTS.astype(np.float32)
    out = np.empty_like(a)
    vm.activate32(kind, a, out)
    expected = reference(a.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=0, atol=2.5e-7)
    sizeable = np.abs(expected) > 0.05           # tanh: absolute error ~1e-7 near 0 (documented)
    np.testing.assert_allclose(out[sizeable], expected[sizeable], rtol=2e-6)
    assert not np.any((out != 0) & (np.abs(out) < np.finfo(np.float32).tiny))


def test_linear_activation_is_the_affine_map():
    v = np.linspace(-3, 3, 7)
    out = np.empty_like(v)
    vm.activate64(vm.LINEAR, 2.0, 1.0, v, out)
    np.testing.assert_array_equal(out, 2.0 * (v - 1.0))
