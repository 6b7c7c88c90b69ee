"""The hand-vectorised row sums (simd.py) agree with scipy's sparse products."""
import numpy as np
import pytest
import scipy.sparse as sp

from engines.reservoir import simd


def _csr32(matrix):
    m = sp.csr_matrix(matrix, dtype=np.float32)
    return m.indptr.astype(np.int32), m.indices.astype(np.int32), m.data.astype(np.float32)


@pytest.mark.parametrize("lanes", [16, 48, 64, 80, 128])
def test_row_sums_match_sparse_products(lanes):
    rng = np.random.default_rng(lanes)
    matrix = sp.random(50, 50, density=0.2, random_state=lanes, format="csr", dtype=np.float32)
    matrix[7] = 0                                  # an empty row gives zeros
    matrix.eliminate_zeros()
    X = rng.standard_normal((50, lanes)).astype(np.float32)
    out, mask_sum = (np.full((50, lanes), np.nan, np.float32) for _ in range(2))
    row_sums, row_sums_masked = simd.kernels()
    ptr, idx, w = _csr32(matrix)
    row_sums(out.ctypes.data, X.ctypes.data, lanes, ptr.ctypes.data, idx.ctypes.data, w.ctypes.data, 50)
    np.testing.assert_allclose(out, matrix @ X, rtol=1e-5, atol=1e-5)
    assert np.all(out[7] == 0)
    out[:] = np.nan
    row_sums_masked(out.ctypes.data, mask_sum.ctypes.data, X.ctypes.data, lanes, ptr.ctypes.data,
                    idx.ctypes.data, w.ctypes.data, 50)
    mask = matrix.copy()
    mask.data[:] = 1
    np.testing.assert_allclose(out, matrix @ X, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mask_sum, mask @ X, rtol=1e-5, atol=1e-5)
