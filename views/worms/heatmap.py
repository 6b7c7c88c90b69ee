"""The activity heatmap: every neuron over time, rasterised by datashader so long recordings
stay fast to zoom and pan; a click on a row adds that neuron's trace."""
from __future__ import annotations

import holoviews as hv
import numpy as np
from holoviews.operation.datashader import rasterize

MAX_TICKS = 45  # more row labels than this overlap at the heatmap's height


def row_ticks(names: list[str]) -> list[tuple[int, str]]:
    """y tick (position, label) pairs, thinned so labels stay readable; row 0 is at the top."""
    n = len(names)
    step = max(1, int(np.ceil(n / MAX_TICKS)))
    return [(n - 1 - i, names[i]) for i in range(0, n, step)]


def heatmap_image(time: np.ndarray, values: np.ndarray, names: list[str], title: str) -> hv.Image:
    """(rows x T) values as an image on a time axis; rows are drawn top to bottom.

    hv.Image needs a regular grid: samples are placed at the recording's median step (real
    recordings jitter by a few percent; the trace plots below use the exact timestamps).
    """
    n, n_time = values.shape
    dt = float(np.median(np.diff(time))) if n_time > 1 else 1.0
    t0 = float(time[0])
    bounds = (t0 - dt / 2, -0.5, t0 + dt * (n_time - 0.5), n - 0.5)
    finite = values[np.isfinite(values)]
    low, high = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0))
    image = hv.Image(values, bounds=bounds, kdims=["time", "row"], vdims=["activity"],
                     label=title)
    return image.opts(clim=(float(low), float(max(high, low + 1e-6))))


def rasterized(image: hv.Image, names: list[str], height: int = 420) -> hv.DynamicMap:
    """The datashaded view: re-aggregated to screen pixels on every zoom and pan."""
    return rasterize(image, aggregator="mean").opts(
        cmap="viridis", colorbar=True, responsive=True, height=height, yticks=row_ticks(names),
        xlabel="time (s)", ylabel="neuron", tools=["hover", "tap"], active_tools=["box_zoom"],
        title=image.label, fontsize={"yticks": 7})


def row_at(y: float | None, names: list[str]) -> str | None:
    """The row name under a click at height ``y`` (None outside the rows)."""
    if y is None:
        return None
    row = len(names) - 1 - int(round(y))
    return names[row] if 0 <= row < len(names) else None


class LiveHeatmap:
    """One rasterised heatmap plot fed through a Pipe, so a new recording updates the plot in
    place instead of building a new figure (the largest part of opening a recording)."""

    def __init__(self, height: int = 420):
        self.names: list[str] = []
        self._title, self._clim = "", (0.0, 1.0)
        self._pipe = hv.streams.Pipe(data=None)
        source = hv.DynamicMap(self._image, streams=[self._pipe])
        self.dmap = rasterize(source, aggregator="mean").opts(
            cmap="viridis", colorbar=True, responsive=True, height=height, xlabel="time (s)",
            ylabel="neuron", tools=["hover", "tap"], active_tools=["box_zoom"],
            fontsize={"yticks": 7}, framewise=True, hooks=[self._decorate])
        self.tap = hv.streams.Tap(source=self.dmap)

    def show(self, time: np.ndarray, values: np.ndarray, names: list[str], title: str) -> None:
        self.names, self._title = list(names), title
        self._pipe.send((time, values))

    def _image(self, data):
        if data is None:
            return hv.Image(np.zeros((1, 1)), kdims=["time", "row"], vdims=["activity"])
        time, values = data
        image = heatmap_image(time, values, self.names, self._title)
        self._clim = image.opts.get().kwargs.get("clim", (0.0, 1.0))
        return image

    def _decorate(self, plot, element) -> None:
        """Row names as y ticks, the title and the percentile colour range, on every update."""
        from bokeh.models import FixedTicker
        ticks = row_ticks(self.names)
        axis = plot.state.yaxis[0]
        axis.ticker = FixedTicker(ticks=[t for t, _ in ticks])
        axis.major_label_overrides = {t: label for t, label in ticks}
        plot.state.title.text = self._title
        mapper = plot.handles.get("color_mapper")
        if mapper is not None:
            mapper.low, mapper.high = self._clim

    def row_at(self, y: float | None) -> str | None:
        return row_at(y, self.names)
