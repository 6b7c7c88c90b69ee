"""The worm room's speed: heatmap re-rendering on zoom/pan, opening a recording, replaying
activity on the connectome and picking a neuron in 3D.

    python -m benchmarks.worms_room [--quick] [--json PATH]

Rows, server side (one thread, everything in this process; medians of repeats):
- the room's heatmap (views/worms/heatmap.py: the engine's HeatmapPyramid aggregated to the
  plot's pixels through HoloViews streams, 300 x 100,000) re-drawn for a sequence of zoom and
  pan ranges, beside datashader's Canvas.raster called directly on the full array and the same
  ranges, and beside the full-resolution Bokeh image without datashader;
- opening a 150 x 1,600 recording in the room (loading the file, preprocessing, ordering and
  building the Bokeh models of the room's page), beside numpy reading the same file.
Rows in the browser (the lab served as the README serves it, headless Chromium, a 150-neuron
x 1,600-sample Flavell-layout recording written here and opened from the data folder):
- "replay": frames of the connectome replay drawn per second while the time cursor plays,
  counted in the page (replay.js counts its draws), beside the new samples per second the
  cursor asks for; target >= 10 frames/s;
- "pick": a click on a neuron in the 3D view until its name is shown at the point (the browser
  names it, views/anatomy3d_scene.py), and until the room has selected it (its trace listed in
  the side panel, after the server's round trip), both from the pointerdown and taken in the
  page; medians over several neurons; target <= 200 ms;
- "3D": the lab's two 3D paths on one scene (the worm's 300 neurons as spheres,
  benchmarks/scene3d_room.py): trame-vtk's local view (the worm room's 3D anatomy) and Panel's
  VTK pane (the fields room's shape view, the connectome room's communities). First frame: from
  the click on the path's tab (its scene built on the server then) to vtk.js's first WebGL draw;
  refresh: a click on "Recolour" (new colours on the server, pushed as the worm room pushes them
  when its time cursor moves) until vtk.js draws the next frame, one at a time; per second.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

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


def _zoom_function(hv, dmap, n_neurons: int):
    """Draw ``dmap`` once (as when the room opens); return a function that zooms/pans it."""
    plot = hv.renderer("bokeh").get_plot(dmap)
    range_stream = next(s for s in plot.streams if isinstance(s, hv.streams.RangeXY))
    return lambda x_range: range_stream.event(x_range=x_range, y_range=(-0.5, n_neurons - 0.5))


def heatmap_rows(n_neurons: int, n_time: int, repeats: int) -> list[Row]:
    import holoviews as hv
    from holoviews.operation.datashader import rasterize
    hv.extension("bokeh")
    from engines.worms import heatmap_aggregate, trace_image_source
    from views.worms.heatmap import LiveHeatmap

    dt = 0.1
    time_s = np.arange(n_time) * dt
    traces = synthetic_traces(n_neurons, n_time)
    names = [f"n{i}" for i in range(n_neurons)]
    heatmap = LiveHeatmap()
    heatmap.show(time_s, traces.T, names, "benchmark", "z-score")
    zoom_room = _zoom_function(hv, heatmap.dmap, n_neurons)
    # the peer HoloViews users reach for: rasterize() of the same image (datashader per view)
    zoom_rasterize = _zoom_function(hv, rasterize(_full_image(hv, traces, time_s), aggregator="mean")
                                    .opts(width=800, height=420), n_neurons)
    source = trace_image_source(traces, time_s)

    def zoom_datashader(x_range):
        heatmap_aggregate(source, x_range, (-0.5, n_neurons - 0.5), width=800, height=420)

    ranges = zoom_ranges(float(time_s[-1]), repeats)
    for zoom in (zoom_room, zoom_rasterize, zoom_datashader):
        zoom(ranges[0])  # numba compiles on the first aggregation; not a user's zoom
    timings = {zoom: [] for zoom in (zoom_room, zoom_rasterize, zoom_datashader)}
    for x_range in ranges:  # the three take turns, so other load on the machine hits each alike
        for zoom, times in timings.items():
            times.append(_timed(zoom, x_range))
    room_s, rasterize_s, raster_s = (statistics.median(times) for times in timings.values())
    size = f"{n_neurons} x {n_time:,}"
    rows = [Row(f"heatmap {size} re-render on zoom/pan (room: engine's HeatmapPyramid)", room_s, "s",
                "HoloViews rasterize of the same image", rasterize_s, "< 0.5 s", room_s < 0.5),
            Row(f"heatmap {size} datashader Canvas.raster alone (no plot update)", raster_s, "s",
                "room zoom/pan", room_s)]
    full = _full_resolution_render(hv, _full_image(hv, traces, time_s))
    rows.append(Row(f"heatmap {size} full-resolution Bokeh image, no datashader (one render)",
                    full, "s", "room zoom/pan", room_s))
    return rows


def _timed(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


def _full_image(hv, traces: np.ndarray, time_s: np.ndarray):
    """Every sample of (T x N) ``traces`` in one image, a row per neuron."""
    dt = float(time_s[1] - time_s[0])
    return hv.Image(traces.T, bounds=(0, -0.5, dt * len(time_s), traces.shape[1] - 0.5),
                    kdims=["time", "row"], vdims=["activity"])


def _full_resolution_render(hv, image) -> float:
    """The naive peer: every sample sent as one Bokeh image (built and serialised once)."""
    from bokeh.embed import json_item
    start = time.perf_counter()
    json_item(hv.render(image))
    return time.perf_counter() - start


def open_recording_rows(n_neurons: int, n_time: int, repeats: int) -> list[Row]:
    import panel as pn
    pn.extension()
    from engines.worms import CANONICAL_NEURONS, Recording, save_plain_npz
    from lab.worms import WormRoom
    from views.worms.room import WormsRoomView

    folder = tempfile.mkdtemp(prefix="worm-bench-")
    os.environ["NEURAL_LAB_DATA"] = folder  # the room opens server paths inside its data folder only
    rng = np.random.default_rng(SEED)
    labels = list(rng.choice(CANONICAL_NEURONS, n_neurons, replace=False))
    time_s = np.arange(n_time) * 0.6
    recording = Recording(name="bench", time=time_s, traces=synthetic_traces(n_neurons, n_time) + 3,
                          labels=labels, behaviour={"velocity": np.sin(time_s / 10)})
    paths = [os.path.join(folder, f"bench{k}.npz") for k in range(repeats + 1)]
    for path in paths:  # a new file each time: the room must really read it
        save_plain_npz(recording, path)

    model = WormRoom()   # nothing is simulated until start(), which this page never calls
    view = WormsRoomView(model)
    view.__panel__().get_root()  # one page, as one browser session has

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


# ---- in the browser --------------------------------------------------------------------------------
def neuron_spots(png: bytes, exclude_right: float = 0.14) -> list[tuple[float, float]]:
    """Centres of the coloured spheres in a screenshot of the 3D view, most isolated first (grey
    unrecorded neurons, the white background, the text and the colour bar are left out)."""
    import io

    from PIL import Image
    from scipy import ndimage
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    height, width, _ = rgb.shape
    colourful = (rgb.max(axis=2) - rgb.min(axis=2)) > 50
    colourful[:, int(width * (1 - exclude_right)):] = False
    colourful[:int(height * 0.08)] = False
    colourful[int(height * 0.9):] = False
    labels, count = ndimage.label(colourful)
    index = range(1, count + 1)
    centres = ndimage.center_of_mass(colourful, labels, index)
    sizes = ndimage.sum(colourful, labels, index)
    spots = [(x, y) for (y, x), size in zip(centres, sizes) if 8 <= size <= 200]

    def isolation(p):
        return min([np.hypot(p[0] - q[0], p[1] - q[1]) for q in spots if q != p] or [99.0])
    return sorted(spots, key=isolation, reverse=True)


def write_flavell_folder(folder: Path, n_neurons: int, n_time: int) -> str:
    """A Flavell-layout recording with every trace named, in ``folder``/bench; returns the label
    the room offers it under."""
    import h5py
    import pandas as pd
    from engines.worms import CANONICAL_NEURONS
    rng = np.random.default_rng(SEED)
    sub = folder / "bench"
    sub.mkdir(parents=True, exist_ok=True)
    with h5py.File(sub / "bench-data.h5", "w") as f:
        f["gcamp/trace_array"] = synthetic_traces(n_neurons, n_time)
        f["timing/timestamp_confocal"] = 100 + np.arange(n_time) * 0.6
        f["behavior/velocity"] = 0.05 * np.sin(np.arange(n_time) / 30)
    names = rng.choice(CANONICAL_NEURONS, n_neurons, replace=False)
    pd.DataFrame({"trace_column_1based": np.arange(1, n_neurons + 1), "label": names,
                  "confidence": 5.0}).to_csv(sub / "bench-labels.csv", index=False)
    return "bench: 1 Flavell-lab recordings (data folder)"


CLICK_CLOCK_JS = """() => {
  window.__pick = {};
  const label = () => document.querySelector('.picked-label');
  document.addEventListener('pointerdown', () => {
    window.__pick = {down: Date.now(), before: label() ? label().textContent.trim() : ''};
  }, true);
  const watch = () => {
    if (!label()) { setTimeout(watch, 50); return }
    new MutationObserver(() => {   // a new name at the point
      const text = label().textContent.trim();
      if (text && text !== window.__pick.before && window.__pick.down && !window.__pick.shown)
        window.__pick.shown = Date.now();
    }).observe(label(), {childList: true, characterData: true, subtree: true, attributes: true});
  };
  watch();
}"""
FRAMES_JS = "() => Object.values(window.__labReplay || {}).reduce((n, s) => n + s.frames, 0)"


def browser_rows(seconds: float, picks: int) -> list[Row]:
    """Replay frames drawn per second and 3D pick latency, in a served lab."""
    import urllib.parse

    from playwright.sync_api import sync_playwright

    from benchmarks.browser import launch, served_lab
    folder = Path(tempfile.mkdtemp(prefix="worm-bench-browser-"))
    label = write_flavell_folder(folder, 150, 1_600)
    query = urllib.parse.urlencode({"room": "worms", "dataset": label})
    with served_lab({"NEURAL_LAB_DATA": str(folder)}) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab?{query}", timeout=180_000)
            page.locator(".worm-status").get_by_text("150 neurons").wait_for(timeout=180_000)
            # the default worms are simulated in the background: measure once that is done
            page.locator(".task-status").get_by_text("finished").wait_for(timeout=300_000)
            return [_replay_row(page, seconds), *_pick_rows(page, picks)]
        finally:
            browser.close()


def _replay_row(page, seconds: float) -> Row:
    page.locator(".bk-tab", has_text="Connectome replay").click()
    page.locator(".worm-replay canvas").wait_for(timeout=120_000)
    page.wait_for_function(f"() => ({FRAMES_JS})() > 0", timeout=120_000)
    page.locator(".time-speed").select_option("20")
    start_frames, start_time = page.evaluate(FRAMES_JS), _readout(page)
    page.locator(".time-play").click()
    page.wait_for_timeout(int(seconds * 1000))
    frames = page.evaluate(FRAMES_JS) - start_frames
    played_s = _readout(page) - start_time
    page.locator(".time-play").click()
    drawn = frames / seconds
    asked = played_s / 0.6 / seconds   # new samples per second the cursor moved through
    return Row("replay: frames drawn per second (150 neurons, cursor at x20)", drawn, "frames/s",
               "samples/s the cursor asked for", asked, ">= 10 frames/s", drawn >= 10)


def _readout(page) -> float:
    import re
    return float(re.search(r"t = ([\d.]+) s", page.locator(".time-readout").inner_text()).group(1))


# In the room's page: when each neuron's chip first appears in the side panel's list of traces
# shown (Date.now(), the same clock as the 3D view's frame, which is served from the same origin).
# Panel's widgets live in shadow roots, which a document-wide observer does not see: the roots
# that hold a chip list are found once and observed.
CHIP_CLOCK_JS = """() => {
  window.__listed = {};
  const roots = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*'))
    if (el.shadowRoot) { roots.push(el.shadowRoot); walk(el.shadowRoot) } };
  walk(document);
  const lists = roots.filter((root) => root.querySelector('.choices__list--multiple'));
  const note = () => {
    for (const root of lists)
      for (const chip of root.querySelectorAll('.choices__list--multiple .choices__item')) {
        const name = (chip.dataset.value || '').trim();
        if (name && !(name in window.__listed)) window.__listed[name] = Date.now();
      }
  };
  note();
  for (const root of lists) new MutationObserver(note).observe(root, {childList: true, subtree: true});
  return lists.length;
}"""


def _pick_rows(page, picks: int) -> list[Row]:
    """Click neurons in the 3D view; both delays are taken in the browser from the pointerdown."""
    page.locator(".bk-tab", has_text="3D anatomy").click()
    iframe = page.locator(".neuron-scene-3d iframe")
    frame = page.frame_locator(".neuron-scene-3d iframe")
    frame.locator("canvas").first.wait_for(timeout=120_000)
    page.wait_for_timeout(3000)
    frame.locator("body").evaluate(CLICK_CLOCK_JS)
    if not page.evaluate(CHIP_CLOCK_JS):
        raise RuntimeError("the side panel's list of traces shown was not found")
    box = iframe.bounding_box()
    shown_ms, listed_ms = [], []
    for x, y in neuron_spots(iframe.screenshot())[:picks]:
        already = set(page.evaluate("() => Object.keys(window.__listed)"))
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            frame.locator("body").evaluate("() => new Promise((ok, no) => { const t0 = Date.now(); "
                                           "const f = () => window.__pick.shown ? ok() : (Date.now() - t0 > 20000 ? no('late') "
                                           ": setTimeout(f, 10)); f() })")
        except Exception:
            continue   # no neuron under the spot (hidden behind another): not a pick
        pick = frame.locator("body").evaluate("() => window.__pick")
        name = frame.locator(".picked-label").inner_text().strip()
        if name in already:
            continue   # selected before the click: nothing for the room to do
        page.wait_for_function("name => name in window.__listed", arg=name, timeout=60_000)
        shown_ms.append(pick["shown"] - pick["down"])
        listed_ms.append(page.evaluate("name => window.__listed[name]", name) - pick["down"])
        page.wait_for_timeout(1500)   # let the room finish redrawing before the next pick
    if not shown_ms:
        return [Row("pick: 3D click -> name at the point", float("nan"), "ms", target="<= 200 ms", met=False)]
    shown, listed = statistics.median(shown_ms), statistics.median(listed_ms)
    count = f"median of {len(shown_ms)}"
    return [Row(f"pick: 3D click -> name at the point, in the 3D view ({count})", shown, "ms",
                target="<= 200 ms", met=shown <= 200),
            Row(f"pick: 3D click -> selected in the room, its trace listed ({count})", listed, "ms",
                target="<= 200 ms", met=listed <= 200)]


# In every frame of the page (the trame view lives in an iframe): WebGL draw calls counted as
# frames (the calls of one synchronous vtk.js render are one frame), with the first one's time.
GL_FRAMES_JS = """(() => {
  const count = (proto) => {
    if (!proto) return;
    for (const name of ["drawElements", "drawArrays"]) {
      const original = proto[name];
      proto[name] = function (...args) {
        const s = (window.__gl = window.__gl || { first: 0, frames: 0, pending: false });
        if (!s.pending && this.canvas && this.canvas.width >= 200) {
          s.pending = true; s.frames += 1; s.first = s.first || Date.now();
          queueMicrotask(() => { s.pending = false });
        }
        return original.apply(this, args);
      };
    }
  };
  count(window.WebGLRenderingContext && WebGLRenderingContext.prototype);
  count(window.WebGL2RenderingContext && WebGL2RenderingContext.prototype);
})()"""
GL_JS = "() => window.__gl || { first: 0, frames: 0 }"


# Clicks "Recolour" and waits for the view's next WebGL frame, ``n`` times; ms per round trip.
RECOLOUR_LOOP_JS = """async ([button, iframe, n]) => {
  const frames = () => ((iframe ? iframe.contentWindow : window).__gl || { frames: 0 }).frames;
  const drawn = (before) => new Promise((ok, no) => {
    const t0 = performance.now();
    const check = () => frames() > before ? ok() : (performance.now() - t0 > 30000 ? no("no frame") : setTimeout(check, 2));
    check();
  });
  const start = performance.now();
  for (let i = 0; i < n; i++) { const before = frames(); button.click(); await drawn(before) }
  return (performance.now() - start) / n;
}"""


def scene_rows(recolours: int) -> list[Row]:
    """The same 3D scene (benchmarks/scene3d_room.py) through trame and through Panel's VTK pane:
    the first frame after its tab is clicked, and recolours shown per second when each is
    asked for as soon as the last one was drawn; both taken in the page from its WebGL draws."""
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import launch, served_lab
    from engines.worms import CANONICAL_NEURONS, positions_on_axis
    from lab.rooms import EXTRA_ROOMS_VARIABLE
    measured = {}
    with (served_lab({EXTRA_ROOMS_VARIABLE: "benchmarks.scene3d_room:SCENE_ROOM"}) as base,
          sync_playwright() as playwright):
        browser = launch(playwright)
        try:
            for path in ("trame", "VTK pane"):   # a fresh page each, the server warm from the first
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(GL_FRAMES_JS)
                page.goto(f"{base}/lab?room=scene3d", timeout=180_000)
                measured[path] = _scene_path(page, path, recolours)
                page.close()
        finally:
            browser.close()
    (trame_first, trame_rate), (vtk_first, vtk_rate) = measured["trame"], measured["VTK pane"]
    scene = f"{len(positions_on_axis(CANONICAL_NEURONS))} neurons as spheres"
    return [Row(f"3D first frame after the tab is shown: trame local view ({scene})", trame_first, "ms",
                "Panel VTK pane, same scene", vtk_first),
            Row(f"3D refresh: recolours shown per second, trame local view (median of {recolours})",
                trame_rate, "per s", "Panel VTK pane", vtk_rate)]


def _scene_path(page, path: str, recolours: int) -> tuple[float, float]:
    """(first frame ms, recolours shown per second) of one path."""
    page.locator(".bk-tab", has_text="About").wait_for(timeout=120_000)
    page.evaluate("() => document.addEventListener('pointerdown', () => { window.__down = Date.now() }, true)")
    page.locator(".bk-tab", has_text=path).click()
    iframe = page.locator(".neuron-scene-3d iframe").element_handle(timeout=120_000) if path == "trame" else None
    gl = "el => ((el ? el.contentWindow : window).__gl || { first: 0 }).first"
    page.wait_for_function(gl, arg=iframe, timeout=120_000, polling=20)
    first_ms = page.evaluate(gl, iframe) - page.evaluate("() => window.__down")
    page.wait_for_timeout(3000)   # the first frame's follow-ups (camera, colour bar) settle
    button = page.locator(".scene-recolour button").element_handle()
    times = [page.evaluate(RECOLOUR_LOOP_JS, [button, iframe, 1]) for _ in range(recolours)]
    return first_ms, 1000 / statistics.median(times)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = 5 if args.quick else 9
    n_time = 20_000 if args.quick else 100_000
    rows = heatmap_rows(300, n_time, repeats) + open_recording_rows(150, 1_600, repeats)
    rows += browser_rows(seconds=3.0 if args.quick else 8.0, picks=3 if args.quick else 7)
    rows += scene_rows(recolours=10 if args.quick else 30)
    notes = [f"seed {SEED}; one thread (OMP_NUM_THREADS=1); medians of {repeats} repeats; "
             "heatmap canvas 800 x 420 px",
             "--quick uses 20,000 time points for the heatmap instead of the issue's 100,000"
             if args.quick else "heatmap at the issue's size: 300 neurons x 100,000 time points",
             "replay and pick: the lab served by panel serve (as the README), headless Chromium "
             "(software WebGL), 1400 x 1000 viewport; the server also simulates the default worms",
             "3D rows: one scene (benchmarks/scene3d_room.py) through each path, a fresh page each, "
             "frames counted from the page's WebGL draws"]
    report(rows, args, "Worm room: heatmap zoom/pan, opening a recording, replay and 3D picking", notes)


if __name__ == "__main__":
    main()
