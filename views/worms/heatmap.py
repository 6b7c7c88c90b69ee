"""The activity heatmap: every neuron over time, aggregated to screen pixels on every zoom and
pan by the engine's ``HeatmapPyramid`` (block means built once per recording, so a wide view of a
long recording costs as little as a close one); a click on a row picks that neuron."""
from __future__ import annotations

import holoviews as hv
import numpy as np

from engines.worms import HeatmapPyramid

MAX_TICKS = 45  # more row labels than this overlap at the heatmap's height
DEFAULT_SIZE = (800, 420)


def row_ticks(names: list[str]) -> list[tuple[int, str]]:
    """y tick (position, label) pairs, thinned so labels stay readable; row 0 is at the top."""
    n = len(names)
    step = max(1, int(np.ceil(n / MAX_TICKS)))
    return [(n - 1 - i, names[i]) for i in range(0, n, step)]


def row_at(y: float | None, names: list[str]) -> str | None:
    """The row name under a click at height ``y`` (None outside the rows)."""
    if y is None:
        return None
    row = len(names) - 1 - int(round(y))
    return names[row] if 0 <= row < len(names) else None


def colour_range(values: np.ndarray) -> tuple[float, float]:
    """1st to 99th percentile of the finite values (a few outliers do not wash out the rest)."""
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    return float(low), float(max(high, low + 1e-6))


class LiveHeatmap:
    """One heatmap plot fed through streams: a new recording (Pipe), zoom and pan (RangeXY) and
    the plot's size (PlotSize) each ask the pyramid for just the pixels on screen."""

    def __init__(self, height: int = 420, unit: str = "activity"):
        self.names: list[str] = []
        self._title, self._clim, self._unit = "", (0.0, 1.0), unit
        self._pyramid: HeatmapPyramid | None = None
        self._extent = (0.0, 1.0)
        self._pipe = hv.streams.Pipe(data=None)
        self._range = hv.streams.RangeXY()
        self._size = hv.streams.PlotSize()
        self.dmap = hv.DynamicMap(self._image, streams=[self._pipe, self._range, self._size]).opts(
            cmap="viridis", colorbar=True, responsive=True, height=height, xlabel="time (s)",
            ylabel="neuron", tools=["hover", "tap"], active_tools=["box_zoom"],
            fontsize={"yticks": 7}, framewise=True, hooks=[self._decorate])
        self.tap = hv.streams.Tap(source=self.dmap)

    def show(self, time: np.ndarray, values: np.ndarray, names: list[str], title: str, unit: str) -> None:
        """A new recording: (rows x T) ``values``, row names top to bottom."""
        self.names, self._title, self._unit = list(names), title, unit
        self._clim = colour_range(values)
        # The pyramid's neuron coordinate k is drawn at y = k: row 0 goes last so it is on top.
        self._pyramid = HeatmapPyramid(values[::-1].T, time)
        dt = float(np.median(np.diff(time))) if len(time) > 1 else 1.0
        self._extent = (float(time[0]) - dt / 2, float(time[-1]) + dt / 2)
        self._range.reset()  # the new recording opens fully zoomed out
        self._pipe.send(len(names))

    def _image(self, data, x_range=None, y_range=None, width=None, height=None, scale=1.0) -> hv.Image:
        if data is None or self._pyramid is None:
            return hv.Image(np.zeros((1, 1)), kdims=["time", "row"], vdims=[self._unit])
        n = len(self.names)
        x_range = x_range or self._extent
        y_range = y_range or (-0.5, n - 0.5)
        width, height = width or DEFAULT_SIZE[0], height or DEFAULT_SIZE[1]
        pixels = self._pyramid.aggregate(x_range, y_range, width=max(int(width), 10),
                                         height=max(int(min(height, 4 * n)), 4))
        return hv.Image((pixels["time"].values, pixels["neuron"].values, pixels.values),
                        kdims=["time", "row"], vdims=[self._unit]).opts(clim=self._clim)

    def _decorate(self, plot, element) -> None:
        """Row names as y ticks and the title, on every update."""
        from bokeh.models import FixedTicker
        ticks = row_ticks(self.names)
        axis = plot.state.yaxis[0]
        axis.ticker = FixedTicker(ticks=[t for t, _ in ticks])
        axis.major_label_overrides = {t: label for t, label in ticks}
        plot.state.title.text = self._title

    def row_at(self, y: float | None) -> str | None:
        return row_at(y, self.names)
