"""How fast the neural fields room trains and refreshes, headless and in a browser.

Prints: training throughput headless (the room's FieldRun stepped in this process, no UI at all)
beside the same training run from the room in headless Chromium (steps/s read from the page's
status line; the room trains in its worker process) and their ratio; how often the page's 2-D
view actually refreshed while training (counted in the page by a MutationObserver, so that
measuring does not load the page); the server-side cost of one 2-D refresh at 256^2 (snapshot +
redraw) and of one 3-D refresh (isosurface + VTK synchronisation); and how long a click (Pause)
takes to be answered while training.

    python -m benchmarks.fields_room [--quick] [--json PATH]
"""
from __future__ import annotations

import os
import re
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402
from lab.fields.model import FieldsRoom  # noqa: E402
from lab.fields.run import FieldConfig, FieldRun  # noqa: E402
from lab.fields.targets import image_target, shape_target  # noqa: E402
from tests.browser.chromium import launch  # noqa: E402
from tests.browser.server import free_port, serve_lab, stop, wait_until_up  # noqa: E402

TIMEOUT_MS = 120_000
ROOM_DEFAULTS = dict(image="camera", size=128, batch=4096)  # what the room trains when opened
PREVIEW_RESOLUTION = FieldsRoom.param.preview_resolution.default


def headless_steps_per_second(seconds: float) -> float:
    """The room's default run (GNF on camera 128^2, batch 4096), stepped with no UI at all."""
    run = FieldRun(image_target(ROOM_DEFAULTS["image"], ROOM_DEFAULTS["size"]), FieldConfig("gnf"),
                   1e-2, ROOM_DEFAULTS["batch"])
    run.step(5)  # warm-up
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        run.step(10)
        steps += 10
    return steps / (time.perf_counter() - start)


def room_steps_per_second(seconds: float) -> float:
    """The room's model training (in its worker process), snapshots on, with no page."""
    room = FieldsRoom(image_source=ROOM_DEFAULTS["image"], image_size=ROOM_DEFAULTS["size"],
                      batch_size=ROOM_DEFAULTS["batch"], steps=100_000)
    try:
        room.train()
        time.sleep(1.0)
        steps_0, elapsed_0 = room.background.steps_done, room.background.elapsed
        time.sleep(seconds)
        steps_1, elapsed_1 = room.background.steps_done, room.background.elapsed
    finally:
        room.close()
    return (steps_1 - steps_0) / (elapsed_1 - elapsed_0)


def status_numbers(page) -> tuple[int, float]:
    text = page.locator(".task-status p").first.inner_text()
    found = re.search(r"steps ([\d,]+)(?: / [\d,]+)? · ([\d.]+) s", text)
    return (int(found.group(1).replace(",", "")), float(found.group(2))) if found else (0, 0.0)


# Records every step number the metric line shows, from inside the page: polling the page from
# here would itself cost the page and this machine's two cores CPU time
COUNT_SHOWN_STEPS = """() => {
  const find = (root) => root.querySelector('.fields-metric') || [...root.querySelectorAll('*')]
      .filter((node) => node.shadowRoot).map((node) => find(node.shadowRoot)).find(Boolean) || null;
  const host = find(document), metric = host.shadowRoot || host;
  window.shownSteps = new Set();
  const record = () => { const m = /step ([\\d,]+)/.exec(metric.textContent); if (m) window.shownSteps.add(m[1]); };
  new MutationObserver(record).observe(metric, {subtree: true, childList: true, characterData: true});
  record();
}"""


def browser_figures(seconds: float) -> dict:
    """Train in the room from Chromium; count refreshes; time a Pause click while training."""
    from playwright.sync_api import sync_playwright
    port = free_port()
    process = serve_lab(port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/lab", process)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab?room=fields", timeout=TIMEOUT_MS)
            page.locator(".fields-metric p").first.wait_for(timeout=TIMEOUT_MS)
            steps_input = page.locator(".fields-steps input").first
            steps_input.fill("100000")  # train for longer than the measuring window
            steps_input.press("Enter")
            page.wait_for_timeout(500)
            page.get_by_role("button", name="Train", exact=True).first.click()
            page.wait_for_timeout(2000)  # past the first chunk
            page.evaluate(COUNT_SHOWN_STEPS)
            start = time.perf_counter()
            steps_0, elapsed_0 = status_numbers(page)
            page.wait_for_timeout(seconds * 1000)
            shown = page.evaluate("() => window.shownSteps.size")
            refresh_hz = (shown - 1) / (time.perf_counter() - start)  # the first was shown already
            steps_1, elapsed_1 = status_numbers(page)
            steps, elapsed = steps_1 - steps_0, elapsed_1 - elapsed_0  # the window only
            clicked = time.perf_counter()
            page.get_by_role("button", name="Pause", exact=True).first.click()
            page.locator(".task-status").get_by_text("paused").wait_for(timeout=TIMEOUT_MS)
            click_s = time.perf_counter() - clicked
            browser.close()
    finally:
        stop(process)
    return {"steps_per_s": steps / elapsed if elapsed else 0.0, "refresh_hz": refresh_hz, "click_s": click_s}


def refresh_costs(repeats: int) -> dict:
    """Server-side seconds per refresh: 2-D at 256^2 (GNF and NeuRBF), 3-D at the preview grid."""
    from views.fields.image_view import ImageView
    from views.fields.shape_view import ShapeView
    out = {}
    view = ImageView()
    view.set_names("camera", "gnf", "none")
    for model, kernels in (("gnf", 32), ("neurbf", 1024)):
        run = FieldRun(image_target("camera", 256), FieldConfig(model, n_kernels=kernels), 1e-2, 4096)
        run.step(20)
        out[f"2d_{model}"] = median_time(lambda: view.draw(run.image_snapshot()), repeats)
    # what FieldsRoom(task="shape", shape_source="torus") trains: GNF, finest grid 128, lr 1e-2
    run = FieldRun(shape_target("torus"), FieldConfig("gnf"), 1e-2, 4096)
    run.step(200)
    shape_view = ShapeView()
    shape_view.set_truth(run.target.mesh.vertices, run.target.mesh.faces)
    out["3d_points"] = len(run.shape_snapshot(PREVIEW_RESOLUTION).vertices)
    out["3d"] = median_time(lambda: shape_view.draw(run.shape_snapshot(PREVIEW_RESOLUTION)), repeats)
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    torch.set_num_threads(1)
    seconds = 4 if args.quick else 20
    repeats = 2 if args.quick else 7
    # the machine is shared: measure headless before and after the browser run, take the mean
    before = headless_steps_per_second(seconds)
    live = browser_figures(seconds)
    headless = (before + headless_steps_per_second(seconds)) / 2
    model_only = room_steps_per_second(seconds)
    costs = refresh_costs(repeats)
    ratio = live["steps_per_s"] / headless
    rows = [
        Row("training steps/s, room open in Chromium", live["steps_per_s"], "steps/s",
            "headless FieldRun (same run, mean before/after)", headless, ">= 0.8x headless", ratio >= 0.8),
        Row("training steps/s, room model without a page (snapshots on)", model_only, "steps/s",
            "headless FieldRun (same run, mean before/after)", headless, ">= 0.8x headless",
            model_only / headless >= 0.8),
        Row("2-D view refreshes seen in the page (128^2)", live["refresh_hz"], "Hz",
            target=">= 2 Hz", met=live["refresh_hz"] >= 2),
        Row("2-D refresh at 256^2, GNF (snapshot + redraw)", 1 / costs["2d_gnf"], "Hz",
            target=">= 2 Hz", met=1 / costs["2d_gnf"] >= 2),
        Row("2-D refresh at 256^2, NeuRBF 1024 kernels", 1 / costs["2d_neurbf"], "Hz",
            target=">= 2 Hz", met=1 / costs["2d_neurbf"] >= 2),
        Row(f"3-D refresh, {costs['3d_points']:,}-point isosurface (+ VTK sync)", 1 / costs["3d"], "Hz",
            target=">= 1 Hz", met=1 / costs["3d"] >= 1),
        Row("Pause click answered while training", live["click_s"] * 1000, "ms",
            target="<= 200 ms", met=live["click_s"] <= 0.2),
    ]
    notes = [f"torch threads 1, seed 0, camera image, batch {ROOM_DEFAULTS['batch']}, GNF 32 units, "
             f"grids 32/64/128; windows {seconds} s; refresh costs are medians of {repeats}",
             "the room trains in its worker process; it, the server and headless Chromium share this machine's cores",
             "3-D: torus, GNF, preview grid 48^3, pyvista scene synchronised through Panel's VTK pane"]
    report(rows, args, "Neural fields room: training throughput and refresh rates", notes)


if __name__ == "__main__":
    main()
