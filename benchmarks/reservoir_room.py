"""How the reservoir room keeps up: live frames in Chromium, the simulation's speed with and
without the live view, and a balance sweep through Dask.

    python -m benchmarks.reservoir_room [--quick] [--json PATH]

Live view: the lab is served as the README does, the room is opened in headless Chromium at
its default N = 500, Run is pressed, and for a few seconds the page counts how often the
raster's data changes (frames/s) while the step counter in the regime badge (with the time of
each change) gives the simulation's speed. The headless figure runs the same model (its
simulation process, chunking and frames) from this process with no view attached. The two take
turns of a few seconds, each paused while the other runs, so that both meet the same load
from other people's work on a shared machine; the CPU that work took is printed too.

The sweep runs the model's sweep (4 g x static/adaptive x seeds, memory capacity, N = 500) on a
2-worker Dask LocalCluster, beside the same jobs run one after another in this process (the
engine's ``score_seed``, no Dask).
"""
from __future__ import annotations

import os
import re
import time

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from benchmarks.report import Row, parse_args, report  # noqa: E402
from benchmarks.browser import served_room  # noqa: E402

TIMEOUT_MS = 90_000
PHASE_SECONDS = 2.0    # live and headless take turns this long
SETTLE_SECONDS = 0.7   # after Run: the run is handed to its worker and frames flow again
SWEEP_BALANCES = (0.5, 1.0, 1.5, 2.0)
# Counts every change of the raster's image in the page (Bokeh's documents are global), and
# logs each change of the regime badge's text (it carries the step count) with its time.
COUNT_FRAMES_JS = """() => {
  const sources = [], badges = [];
  for (const doc of window.Bokeh.documents)
    for (const model of doc._all_models.values()) {
      if (model.type === "ColumnDataSource" && model.data.image !== undefined) sources.push(model);
      if (typeof model.text === "string" && model.text.includes("regime-badge")) badges.push(model);
    }
  const badgeText = () => badges.map(b => b.text).join();
  window.__frames = 0;
  window.__badge_log = [];
  let last = sources.map(s => s.data.image);
  let lastBadge = badgeText();
  window.__frame_timer = setInterval(() => {
    const now = sources.map(s => s.data.image);
    if (now.some((image, i) => image !== last[i])) window.__frames += 1;
    last = now;
    const text = badgeText();
    if (text !== lastBadge) window.__badge_log.push([performance.now(), text]);
    lastBadge = text;
  }, 5);
  return sources.length;
}"""


def badge_steps(badge_log) -> list[tuple[float, int]]:
    """(seconds, step) at each change of the badge the page saw."""
    return [(ms / 1000, int(re.search(r"([\d,]+) steps", text).group(1).replace(",", ""))) for ms, text in badge_log]


class OtherLoad:
    """CPU cores used by processes other than this one and its children (other people's work)."""

    def __enter__(self):
        self._start = self._sample()
        return self

    def __exit__(self, *_exc):
        end = self._sample()
        busy = (end[0] - self._start[0]) - (end[1] - self._start[1])
        self.cores = max(0.0, busy / (end[2] - self._start[2]))   # the two clocks tick apart: no -0.01

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        import psutil
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        mine = 0.0
        for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
            try:
                cpu = process.cpu_times()
                mine += cpu.user + cpu.system
            except psutil.Error:
                pass
        return busy, mine, time.perf_counter()


class Phases:
    """Totals over the phases of one kind (live or headless)."""

    def __init__(self):
        self.steps = self.step_seconds = self.seconds = self.frames = self.other_cpu_seconds = 0.0

    def add(self, timed_steps: list[tuple[float, int]], seconds: float, other_cores: float, frames: int = 0):
        """timed_steps: (time, step count) as seen during the phase; its first and last count."""
        if len(timed_steps) < 2:
            raise RuntimeError("the step count did not change during a phase")
        (t0, s0), (t1, s1) = timed_steps[0], timed_steps[-1]
        self.steps += s1 - s0
        self.step_seconds += t1 - t0
        self.seconds += seconds
        self.frames += frames
        self.other_cpu_seconds += other_cores * seconds

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.step_seconds

    @property
    def other_cores(self) -> float:
        return self.other_cpu_seconds / self.seconds


def live_phase(page, seconds: float, phases: Phases) -> None:
    """The room runs in the page: frames and the badge's step counts over ``seconds``."""
    start, frames0 = page.evaluate("() => [performance.now(), window.__frames]")
    with OtherLoad() as others:
        page.wait_for_timeout(int(seconds * 1000))
    end, frames1, log = page.evaluate("() => [performance.now(), window.__frames, window.__badge_log]")
    shown = [(t, step) for t, step in badge_steps(log) if start / 1000 <= t <= end / 1000]
    phases.add(shown, (end - start) / 1000, others.cores, frames1 - frames0)


def headless_phase(model, seconds: float, phases: Phases) -> None:
    """The same model runs with no view: the step counts of its frames over ``seconds``."""
    seen = []
    watcher = model.param.watch(lambda event: seen.append((time.perf_counter(), event.new.step)), "snapshot")
    model.run()
    time.sleep(SETTLE_SECONDS)
    seen.clear()
    start = time.perf_counter()
    with OtherLoad() as others:
        time.sleep(seconds)
    shown, elapsed = list(seen), time.perf_counter() - start
    model.pause()
    model.param.unwatch(watcher)
    phases.add(shown, elapsed, others.cores)


def live_and_headless(seconds: float) -> tuple[Phases, Phases]:
    """The room in Chromium and the same model headless (in this process), taking turns of
    PHASE_SECONDS (the other paused), so that both meet the same load from other people."""
    from lab.reservoir import ReservoirRoom
    headless, live, still = ReservoirRoom(), Phases(), Phases()
    try:
        with served_room("reservoir", {"width": 1400, "height": 900}, TIMEOUT_MS) as page:
            button = lambda name: page.get_by_role("button", name=name, exact=True).first
            button("Run").wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(2000)
            button("Run").click()
            page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(2000)   # past start-up
            if page.evaluate(COUNT_FRAMES_JS) < 1:
                raise RuntimeError("the raster's data source was not found in the page")
            headless.run()   # its worker starts: not measured
            while headless.steps < 10_000:
                time.sleep(0.05)
            headless.pause()
            for turn in range(max(1, round(seconds / PHASE_SECONDS))):
                if turn:
                    button("Run").click()
                    page.wait_for_timeout(int(SETTLE_SECONDS * 1000))
                live_phase(page, PHASE_SECONDS, live)
                button("Pause").click()
                headless_phase(headless, PHASE_SECONDS, still)
    finally:
        headless.close()
    return live, still


def sweep_with_dask(seeds: int) -> tuple[float, object]:
    from lab.reservoir import ReservoirRoom
    model = ReservoirRoom(sweep_balances=list(SWEEP_BALANCES), sweep_seeds=seeds)
    start = time.perf_counter()
    model.start_sweep()
    while model.sweep.state == "running":
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if model.sweep.state != "finished" or model.sweep_summary is None:
        raise RuntimeError(f"the sweep ended {model.sweep.state} without a summary: {model.sweep.error}")
    return seconds, model.sweep_summary


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
    live, still = live_and_headless(seconds)
    fps, steps_live, steps_headless = live.frames / live.seconds, live.steps_per_second, still.steps_per_second
    sweep_seconds, summary = sweep_with_dask(seeds)
    rows = [
        Row("live view frames/s (N = 500, Chromium)", fps, "frames/s", target=">= 10", met=fps >= 10),
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
    notes = [f"{live.seconds:.0f} s live and {still.seconds:.0f} s headless, in turns of {PHASE_SECONDS:g} s; "
             f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; BLAS/numba 1 thread "
             "per process; sweep on 2 worker processes",
             f"other people's processes used {live.other_cores:.2f} cores during the live turns, "
             f"{still.other_cores:.2f} during the headless ones",
             "live steps/s from the page's step counter; headless from the model's frames in this process",
             "best MC per condition: " + "; ".join(f"{'adaptive' if a else 'static'} {m:.1f} at g = {g:g}"
                                                   for a, g, m in best.itertuples(index=False))]
    report(rows, args, "Reservoir room: live view and sweep speed", notes)


if __name__ == "__main__":
    main()
