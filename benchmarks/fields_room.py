"""How fast the neural fields room trains and refreshes, headless and in a browser.

Prints: the training throughput of the room in headless Chromium (steps/s read from the page's
status line; the room trains in its worker process) beside the same training run headless (the
room's FieldRun stepped in this process, with no UI at work) and their ratio. The two alternate
in windows of a few seconds (the room is paused while the headless run trains), and each
figure is the median of its windows: the machine is shared, and alternating puts both under the
same passing load. Also: how often the page's 2-D view actually refreshed while training
(counted in the page by a MutationObserver, so that measuring does not load the page); the
server-side cost of one 2-D refresh at 256^2 (snapshot + redraw) and of one 3-D refresh
(isosurface + VTK synchronisation); and how long a click (Pause) takes to be answered while
training.

    python -m benchmarks.fields_room [--quick] [--json PATH]
"""
from __future__ import annotations

import os
import re
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from benchmarks.report import Row, median_time, parse_args, report  # noqa: E402
from lab import worker  # noqa: E402
from lab.fields.model import FieldsRoom  # noqa: E402
from lab.rooms import worker_preload  # noqa: E402
from lab.fields.run import FieldConfig, FieldRun  # noqa: E402
from lab.fields.targets import image_target, shape_target  # noqa: E402
from benchmarks.browser import served_room  # noqa: E402

TIMEOUT_MS = 120_000
# what the room trained when it opened before issue 15 moved its defaults (astronaut 256^2, GNF's
# declared knobs); kept, so that figures compare across versions. The page is opened with these
# settings in its URL and the headless run trains the very same field (before, the headless run
# took GNF's declared knobs while the room trained 32 units on 3 grids: the ratio flattered the room)
ROOM_DEFAULTS = dict(image="camera", size=128, batch=4096)
ROOM_KNOBS = dict(n_kernels=32, grid_levels=3)
ROOM_QUERY = (f"image_source={ROOM_DEFAULTS['image']}&image_size={ROOM_DEFAULTS['size']}&knobs="
              + ",".join(f"{k}:{v}" for k, v in {**ROOM_KNOBS, "batch_size": ROOM_DEFAULTS["batch"]}.items()))
PREVIEW_RESOLUTION = FieldsRoom.param.preview_resolution.default


def headless_run() -> FieldRun:
    """The room's run (GNF on camera 128^2, batch 4096), to be stepped with no UI at all."""
    run = FieldRun(image_target(ROOM_DEFAULTS["image"], ROOM_DEFAULTS["size"]), FieldConfig("gnf", **ROOM_KNOBS),
                   1e-2, ROOM_DEFAULTS["batch"])
    run.step(5)  # warm-up
    return run


def headless_steps_per_second(run: FieldRun, seconds: float) -> float:
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        run.step(10)
        steps += 10
    return steps / (time.perf_counter() - start)


def room_steps_per_second(seconds: float) -> float:
    """The room's model training (in its worker process), snapshots on, with no page."""
    room = FieldsRoom(image_source=ROOM_DEFAULTS["image"], image_size=ROOM_DEFAULTS["size"],
                      batch_size=ROOM_DEFAULTS["batch"], steps=100_000, **ROOM_KNOBS)
    try:
        room.train()  # the first chunk starts the worker and builds the run
        deadline = time.perf_counter() + 120
        while room.background.steps_done == 0 and time.perf_counter() < deadline:
            time.sleep(0.1)
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


def descendants_cpu_seconds() -> float | None:
    """CPU seconds used so far by this process's live descendants (the server, the room's worker,
    Chromium), read from /proc; None where there is no /proc."""
    if not os.path.isdir("/proc"):
        return None
    parents, cpu = {}, {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mine, found = {os.getpid()}, True
    while found:
        found = {pid for pid, parent in parents.items() if parent in mine and pid not in mine}
        mine |= found
    return sum(cpu[pid] for pid in mine if pid != os.getpid())


class Room:
    """The fields room open in Chromium, trained and paused by clicking its buttons."""

    def __init__(self, page):
        self.page = page
        page.goto(f"{page.url}&{ROOM_QUERY}", timeout=TIMEOUT_MS)
        page.locator(".fields-metric p").first.wait_for(timeout=TIMEOUT_MS)
        steps_input = page.locator(".fields-steps input").first
        steps_input.fill("100000")  # train for longer than all the windows together
        steps_input.press("Enter")
        page.wait_for_timeout(500)
        # one Step builds the run in the worker first (the room starts no process before), so the
        # windows time training, not the worker's start
        page.get_by_role("button", name="Step", exact=True).first.click()
        page.locator(".fields-metric").get_by_text("step 10 ").wait_for(timeout=TIMEOUT_MS)
        page.evaluate(COUNT_SHOWN_STEPS)

    def train_window(self, seconds: float) -> tuple[float, int]:
        """Train (or resume) for a window: steps/s from the status line, and new steps shown."""
        self.page.get_by_role("button", name="Train", exact=True).first.click()
        self.page.wait_for_timeout(1000)  # past the first chunk and the first status update
        shown_0 = self.page.evaluate("() => window.shownSteps.size")
        steps_0, elapsed_0 = status_numbers(self.page)
        self.page.wait_for_timeout(seconds * 1000)
        steps_1, elapsed_1 = status_numbers(self.page)
        shown = self.page.evaluate("() => window.shownSteps.size") - shown_0
        rate = (steps_1 - steps_0) / (elapsed_1 - elapsed_0) if elapsed_1 > elapsed_0 else 0.0
        return rate, shown

    def pause(self) -> float:
        """Click Pause; seconds until the page says so."""
        clicked = time.perf_counter()
        self.page.get_by_role("button", name="Pause", exact=True).first.click()
        self.page.locator(".task-status").get_by_text("paused").wait_for(timeout=TIMEOUT_MS)
        return time.perf_counter() - clicked


def browser_figures(seconds: float, rounds: int) -> dict:
    """Alternate windows: the room trains in Chromium, then (the room paused) the same run trains
    headless in this process. Medians over the windows; the machine is shared, and alternating
    puts both measurements under the same passing load."""
    headless, live, clicks, shown, ui_cpu = [], [], [], 0, 0.0
    with served_room("fields", {"width": 1400, "height": 1000}, TIMEOUT_MS) as page:
        room, run = Room(page), headless_run()
        for window in range(2 * rounds + 1):
            if window % 2:
                rate, new_steps = room.train_window(seconds)
                live.append(rate)
                shown += new_steps
                clicks.append(room.pause())
                continue
            cpu_0 = descendants_cpu_seconds()
            headless.append(headless_steps_per_second(run, seconds))
            if cpu_0 is not None:
                ui_cpu += descendants_cpu_seconds() - cpu_0
    return {"steps_per_s": statistics.median(live), "headless": statistics.median(headless),
            "refresh_hz": shown / (rounds * seconds), "click_s": statistics.median(clicks),
            "ui_cpu_share": ui_cpu / (len(headless) * seconds)}


def refresh_costs(repeats: int) -> dict:
    """Server-side seconds per refresh: 2-D at 256^2 (GNF and NeuRBF), 3-D at the preview grid."""
    from views.fields.image_view import ImageView
    from views.fields.shape_view import ShapeView
    out = {}
    view = ImageView()
    for model, kernels in (("gnf", 32), ("neurbf", 1024)):
        run = FieldRun(image_target("camera", 256), FieldConfig(model, n_kernels=kernels), 1e-2, 4096)
        run.step(20)

        def refresh():
            shot = run.image_snapshot()
            view.draw(shot.target, "camera", [model], [shot])
        out[f"2d_{model}"] = median_time(refresh, repeats)
    # what FieldsRoom(task="shape", shape_source="torus") trains: GNF with its declared shape knobs
    run = FieldRun(shape_target("torus"), FieldConfig("gnf"), 1e-2, 4096)
    run.step(200)
    shape_view = ShapeView()
    shape_view.set_truth(run.target.mesh.vertices, run.target.mesh.faces)
    out["3d_points"] = len(run.shape_snapshot(PREVIEW_RESOLUTION).vertices)
    out["3d"] = median_time(lambda: shape_view.draw([run.shape_snapshot(PREVIEW_RESOLUTION)]), repeats)
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    torch.set_num_threads(1)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    worker.warm_up(worker_preload())  # the room model below then starts its worker at once
    seconds, rounds = (3, 3) if args.quick else (8, 5)
    repeats = 2 if args.quick else 7
    live = browser_figures(seconds, rounds)
    headless = live["headless"]
    model_only = room_steps_per_second(seconds)
    costs = refresh_costs(repeats)
    ratio = live["steps_per_s"] / headless
    peer = f"headless FieldRun (same run, median of {rounds + 1} windows)"
    rows = [
        Row(f"training steps/s, room open in Chromium (median of {rounds} windows)", live["steps_per_s"],
            "steps/s", peer, headless, ">= 0.8x headless", ratio >= 0.8),
        Row("training steps/s, room model without a page (snapshots on)", model_only, "steps/s",
            peer, headless, ">= 0.8x headless", model_only / headless >= 0.8),
        Row("2-D view refreshes seen in the page (128^2)", live["refresh_hz"], "Hz",
            target=">= 2 Hz", met=live["refresh_hz"] >= 2),
        Row("2-D refresh at 256^2, GNF (snapshot + redraw)", 1 / costs["2d_gnf"], "Hz",
            target=">= 2 Hz", met=1 / costs["2d_gnf"] >= 2),
        Row("2-D refresh at 256^2, NeuRBF 1024 kernels", 1 / costs["2d_neurbf"], "Hz",
            target=">= 2 Hz", met=1 / costs["2d_neurbf"] >= 2),
        Row(f"3-D refresh, {costs['3d_points']:,}-point isosurface (+ VTK sync)", 1 / costs["3d"], "Hz",
            target=">= 1 Hz", met=1 / costs["3d"] >= 1),
        Row(f"Pause click answered while training (median of {rounds})", live["click_s"] * 1000, "ms",
            target="<= 200 ms", met=live["click_s"] <= 0.2),
    ]
    notes = [f"torch threads 1, seed 0, camera image {ROOM_DEFAULTS['size']}^2, batch {ROOM_DEFAULTS['batch']}, GNF "
             f"{ROOM_KNOBS['n_kernels']} units on {ROOM_KNOBS['grid_levels']} grids (finest 128) in the page, the room "
             f"model and headless alike; windows {seconds} s; refresh costs are medians of {repeats}",
             "the room trains in its worker process; it, the server and headless Chromium share this machine's cores",
             "headless windows alternate with the room's, which is paused meanwhile: server, worker and Chromium "
             f"then used {live['ui_cpu_share']:.1%} of a core",
             f"load average before the run: {load_before}",
             "3-D: torus, GNF, preview grid 48^3, pyvista scene synchronised through Panel's VTK pane"]
    report(rows, args, "Neural fields room: training throughput and refresh rates", notes)


if __name__ == "__main__":
    main()
