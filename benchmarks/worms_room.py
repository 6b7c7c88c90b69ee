"""The worm room's speed: heatmap re-rendering on zoom/pan and opening a recording.

    python -m benchmarks.worms_room [--quick] [--json PATH]

Rows (server side, one thread, everything in this process; medians of repeats):
- the room's heatmap (HoloViews ``rasterize`` of a 300 x 100,000 image, as views.worms draws
  it) re-aggregated for a sequence of zoom and pan ranges, beside datashader's Canvas.raster
  called directly on the same array and ranges (the floor), and beside the full-resolution
  Bokeh image without datashader (what the browser would otherwise be sent);
- opening a 150 x 1,600 recording in the room (loading the file, preprocessing, ordering and
  building every Bokeh model of the room's page), beside numpy reading the same file.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402

SEED = 0


def synthetic_traces(n_neurons: int, n_time: int, seed: int = SEED) -> np.ndarray:
    """Smooth random activity (a random walk low-passed), float32, time x neuron."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((n_time, n_neurons)).astype(np.float32)
    walk = np.cumsum(steps, axis=0)
    return (walk - walk.mean(axis=0)) / (walk.std(axis=0) + 1e-6)


def zoom_ranges(t_end: float, n: int) -> list[tuple[float, float]]:
    """Alternating zooms (to 50%, 10%, 1%) and pans across the recording."""
    out = []
    for k in range(n):
        width = t_end * (0.5, 0.1, 0.01)[k % 3]
        start = (t_end - width) * ((k * 0.37) % 1.0)
        out.append((start, start + width))
    return out


def heatmap_rows(n_neurons: int, n_time: int, repeats: int) -> list[Row]:
    import holoviews as hv
    hv.extension("bokeh")
    from engines.worms import heatmap_aggregate, trace_image_source
    from views.worms.heatmap import LiveHeatmap

    dt = 0.1
    time_s = np.arange(n_time) * dt
    traces = synthetic_traces(n_neurons, n_time)
    names = [f"n{i}" for i in range(n_neurons)]
    heatmap = LiveHeatmap()
    heatmap.show(time_s, traces.T, names, "benchmark")
    plot = hv.renderer("bokeh").get_plot(heatmap.dmap)  # the first draw, as when the room opens
    range_stream = next(s for s in plot.streams if isinstance(s, hv.streams.RangeXY))
    ranges = zoom_ranges(float(time_s[-1]), repeats)

    def zoom_room(x_range):
        range_stream.event(x_range=x_range, y_range=(-0.5, n_neurons - 0.5))

    source = trace_image_source(traces, time_s)

    def zoom_datashader(x_range):
        heatmap_aggregate(source, x_range, (-0.5, n_neurons - 0.5), width=800, height=420)

    zoom_room(ranges[0])  # numba compiles on the first aggregation; not a user's zoom
    room_s = statistics.median(_timed(zoom_room, r) for r in ranges)
    peer_s = statistics.median(_timed(zoom_datashader, r) for r in ranges)
    size = f"{n_neurons} x {n_time:,}"
    rows = [Row(f"heatmap {size} re-render on zoom/pan (room, rasterize)", room_s, "s",
                "datashader Canvas.raster alone", peer_s, "< 0.5 s", room_s < 0.5)]
    full = _full_resolution_render(hv, traces, time_s, n_neurons)
    rows.append(Row(f"heatmap {size} full-resolution Bokeh image, no datashader (one render)",
                    full, "s", "room zoom/pan", room_s))
    return rows


def _timed(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


def _full_resolution_render(hv, traces, time_s, n_neurons) -> float:
    """The naive peer: every sample sent as one Bokeh image (built and serialised once)."""
    from bokeh.embed import json_item
    dt = float(time_s[1] - time_s[0])
    image = hv.Image(traces.T, bounds=(0, -0.5, dt * len(time_s), n_neurons - 0.5))
    start = time.perf_counter()
    json_item(hv.render(image))
    return time.perf_counter() - start


def open_recording_rows(n_neurons: int, n_time: int, repeats: int) -> list[Row]:
    import panel as pn
    pn.extension("vtk")
    from engines.worms import CANONICAL_NEURONS, Recording, save_plain_npz
    from lab.worms import WormRoom
    from views.worms import WormRoomView

    folder = tempfile.mkdtemp(prefix="worm-bench-")
    rng = np.random.default_rng(SEED)
    labels = list(rng.choice(CANONICAL_NEURONS, n_neurons, replace=False))
    time_s = np.arange(n_time) * 0.6
    recording = Recording(name="bench", time=time_s, traces=synthetic_traces(n_neurons, n_time) + 3,
                          labels=labels, behaviour={"velocity": np.sin(time_s / 10)})
    paths = [os.path.join(folder, f"bench{k}.npz") for k in range(repeats + 1)]
    for path in paths:  # a new file each time: the room must really read it
        save_plain_npz(recording, path)

    model = WormRoom(start_simulation=False)
    view = WormRoomView(model)
    view.panel().get_root()  # one page, as one browser session has

    def open_in_room(path):
        model.load_path(path)  # the page's Bokeh models are rebuilt for the new recording

    def numpy_read(path):
        with np.load(path) as f:
            f["traces"], f["time"], f["labels"]

    open_in_room(paths[-1])  # warm caches (connectome, positions, numba)
    room_s = statistics.median(_timed(open_in_room, p) for p in paths[:repeats])
    peer_s = median_time(lambda: numpy_read(paths[0]), repeats)
    size = f"{n_neurons} x {n_time:,}"
    return [Row(f"open a {size} recording (load + preprocess + page models)", room_s, "s",
                "numpy reads the NPZ", peer_s, "< 1 s", room_s < 1.0)]


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = 5 if args.quick else 9
    n_time = 20_000 if args.quick else 100_000
    rows = heatmap_rows(300, n_time, repeats) + open_recording_rows(150, 1_600, repeats)
    notes = [f"seed {SEED}; one thread (OMP_NUM_THREADS=1); medians of {repeats} repeats; "
             "server side only (no browser); canvas 800 x 420 px",
             "--quick uses 20,000 time points for the heatmap instead of the issue's 100,000"
             if args.quick else "heatmap at the issue's size: 300 neurons x 100,000 time points"]
    report(rows, args, "Worm room: heatmap zoom/pan and opening a recording", notes)


if __name__ == "__main__":
    main()
