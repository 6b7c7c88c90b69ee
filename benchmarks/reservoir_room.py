"""How the reservoir room keeps up: live frames in Chromium, the simulation's speed with and
without the live view, and a balance sweep through Dask.

    python -m benchmarks.reservoir_room [--quick] [--json PATH]

Live view: the lab is served as the README does, the room is opened in headless Chromium at
its default N = 500, Run is pressed, and for a few seconds the page counts how often the
raster's data changes (frames/s) while the step counter in the regime badge gives the
simulation's speed. The headless figure runs the same model (same chunking, same snapshots)
in this process with no view attached. The sweep runs the model's sweep (4 g x static/adaptive
x seeds, memory capacity, N = 500) on a 2-worker Dask LocalCluster, beside the same jobs run one
after another in this process (the engine's ``score_seed``, no Dask).
"""
from __future__ import annotations

import os
import re
import time

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from benchmarks.report import Row, parse_args, report  # noqa: E402
from tests.browser.chromium import launch  # noqa: E402
from tests.browser.server import free_port, serve_lab, stop, wait_until_up  # noqa: E402

TIMEOUT_MS = 90_000
SWEEP_BALANCES = (0.5, 1.0, 1.5, 2.0)
# Counts every change of the raster's image in the page (Bokeh's documents are global), and of
# the regime badge's text (which carries the step count, so it changes with every snapshot).
COUNT_FRAMES_JS = """() => {
  const sources = [], badges = [];
  for (const doc of window.Bokeh.documents)
    for (const model of doc._all_models.values()) {
      if (model.type === "ColumnDataSource" && model.data.image !== undefined) sources.push(model);
      if (typeof model.text === "string" && model.text.includes("regime-badge")) badges.push(model);
    }
  window.__badge_text = () => badges.map(b => b.text).join();
  window.__frames = 0;
  window.__badges = 0;
  let last = sources.map(s => s.data.image);
  let lastBadge = window.__badge_text();
  window.__frame_timer = setInterval(() => {
    const now = sources.map(s => s.data.image);
    if (now.some((image, i) => image !== last[i])) window.__frames += 1;
    last = now;
    const text = window.__badge_text();
    if (text !== lastBadge) window.__badges += 1;
    lastBadge = text;
  }, 5);
  return sources.length;
}"""


def badge_step(page) -> int:
    text = page.locator(".regime-badge").locator("xpath=..").inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def live_in_browser(seconds: float) -> tuple[float, float, float]:
    """(raster frames/s and snapshots/s seen by the page, simulation steps/s) in Chromium."""
    from playwright.sync_api import sync_playwright
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_lab(port)
    try:
        wait_until_up(f"{base}/lab", process)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/lab?room=reservoir", timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Run", exact=True).first.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(2000)
            page.get_by_role("button", name="Run", exact=True).first.click()
            page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(2000)   # past start-up
            if page.evaluate(COUNT_FRAMES_JS) < 1:
                raise RuntimeError("the raster's data source was not found in the page")
            step0, start = badge_step(page), time.perf_counter()
            page.wait_for_timeout(int(seconds * 1000))
            frames, badges = page.evaluate("() => [window.__frames, window.__badges]")
            step1, elapsed = badge_step(page), time.perf_counter() - start
            browser.close()
        return frames / elapsed, badges / elapsed, (step1 - step0) / elapsed
    finally:
        stop(process)


def live_headless(seconds: float) -> float:
    """Steps/s of the same model with no view (its task thread, chunks and snapshots)."""
    from lab.reservoir import ReservoirRoom
    model = ReservoirRoom()
    model.step()   # compile / warm up
    model.run()
    time.sleep(1.0)
    step0, start = model.reservoir.step_count, time.perf_counter()
    time.sleep(seconds)
    rate = (model.reservoir.step_count - step0) / (time.perf_counter() - start)
    model.close()
    return rate


def sweep_with_dask(seeds: int) -> tuple[float, object]:
    from lab.reservoir import ReservoirRoom
    model = ReservoirRoom(sweep_balances=list(SWEEP_BALANCES), sweep_seeds=seeds)
    start = time.perf_counter()
    model.start_sweep()
    while model.sweep.state == "running":
        time.sleep(0.05)
    if model.sweep.state != "finished":
        raise RuntimeError(f"the sweep ended {model.sweep.state}: {model.sweep.error}")
    return time.perf_counter() - start, model.sweep_summary


def sweep_serial(seeds: int) -> float:
    from engines.reservoir.params import AdaptationParams, ReservoirParams
    from engines.reservoir.sweep import score_seed
    from engines.reservoir.tasks import Split
    start = time.perf_counter()
    for seed in range(seeds):
        score_seed(ReservoirParams(n=500, seed=seed), SWEEP_BALANCES, (False, True), "mc",
                   AdaptationParams(), 2000, Split(), 100)
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    seconds = 4.0 if args.quick else 10.0
    seeds = 2 if args.quick else 5
    fps, snapshots_per_s, steps_live = live_in_browser(seconds)
    steps_headless = live_headless(seconds)
    sweep_seconds, summary = sweep_with_dask(seeds)
    rows = [
        Row("live view frames/s (N = 500, Chromium)", fps, "frames/s", target=">= 10", met=fps >= 10),
        Row("snapshots/s reaching the page (badge)", snapshots_per_s, "1/s", target="model publishes <= 15"),
        Row("simulation with live view open", steps_live, "steps/s", "same model headless", steps_headless,
            target="ratio >= 0.8", met=steps_live >= 0.8 * steps_headless),
    ]
    name = f"sweep 4 g x 2 conditions x {seeds} seeds, MC, N = 500"
    if args.quick:
        rows.append(Row(name, sweep_seconds, "s", target="(full run: 5 seeds < 60 s)"))
    else:
        serial = sweep_serial(seeds)
        rows.append(Row(name, sweep_seconds, "s", "same jobs serial, no Dask", serial, target="< 60 s",
                        met=sweep_seconds < 60))
    best = summary.loc[summary.groupby("adaptive")["mean"].idxmax(), ["adaptive", "balance", "mean"]]
    notes = [f"{seconds:g} s of live run per figure; machine: {os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f}; BLAS/numba 1 thread per process; sweep on 2 worker processes",
             "live steps/s read from the page's step counter (server process), headless in this process",
             "best MC per condition: " + "; ".join(f"{'adaptive' if a else 'static'} {m:.1f} at g = {g:g}"
                                                   for a, g, m in best.itertuples(index=False))]
    report(rows, args, "Reservoir room: live view and sweep speed", notes)


if __name__ == "__main__":
    main()
