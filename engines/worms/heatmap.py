"""Heatmap aggregation with datashader: a (time x neuron) matrix reduced to screen pixels.

The room's view does the same through HoloViews' ``rasterize``; this function is the engine
level entry point for scripts, exports and the benchmark.
"""
from __future__ import annotations

import datashader as ds
import numpy as np
import xarray as xr


def trace_image_source(traces: np.ndarray, time: np.ndarray, neurons=None) -> xr.DataArray:
    """(neuron, time) DataArray with numeric coordinates, the layout Canvas.raster expects.

    Works on NumPy or Dask arrays (datashader aggregates Dask chunk by chunk).
    """
    n = traces.shape[1]
    return xr.DataArray(traces.T, dims=("neuron", "time"),
                        coords={"neuron": np.arange(n, dtype=np.float64),
                                "time": np.asarray(time, dtype=np.float64)},
                        attrs={"neuron_names": list(neurons) if neurons is not None else []})


def heatmap_aggregate(source: xr.DataArray, x_range, y_range=None, width: int = 800,
                      height: int = 300, how: str = "mean") -> xr.DataArray:
    """Mean activity per pixel for the visible window (``x_range`` in seconds)."""
    if y_range is None:
        y_range = (float(source.neuron[0]) - 0.5, float(source.neuron[-1]) + 0.5)
    canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=tuple(x_range),
                       y_range=tuple(y_range))
    return canvas.raster(source, agg=how, downsample_method=how)


class HeatmapPyramid:
    """Block means of the traces at 1, 4, 16, ... samples per block, built once.

    A wide view is aggregated from the coarsest level that still has ``min_per_pixel``
    samples per pixel, so zooming out costs about as much as zooming in. Block means of block
    means are exact means, so the picture is the same mean heatmap (to within block edges).
    """

    def __init__(self, traces: np.ndarray, time: np.ndarray, factor: int = 4, min_len: int = 2000):
        self.levels = [trace_image_source(traces, time)]
        while self.levels[-1].sizes["time"] >= factor * min_len:
            coarse = self.levels[-1].coarsen(time=factor, boundary="trim").mean()
            self.levels.append(coarse)

    def aggregate(self, x_range, y_range=None, width: int = 800, height: int = 300,
                  min_per_pixel: int = 2) -> xr.DataArray:
        lo, hi = x_range
        chosen = self.levels[0]
        for level in self.levels[1:]:
            t = level["time"].values
            inside = np.searchsorted(t, hi) - np.searchsorted(t, lo)
            if inside < min_per_pixel * width:
                break
            chosen = level
        return heatmap_aggregate(chosen, x_range, y_range, width, height)
