"""Radiance fields benchmark: the best RBF field (GNF, NeuRBF) against dense grids + MLP, hash
grid + MLP (Instant-NGP) and the plain NeRF MLP, on the default scene, at one parameter budget
and equal wall time; the flatland target; the novel-view preview rate.

    python -m benchmarks.radiance [--quick] [--json PATH] [--clock wall|cpu] [--device cpu|cuda]
    python -m benchmarks.radiance --tune [--clock cpu]      # the recorded sweep (radiance_tuning.json)

The protocol, fixed before any model was run (it follows benchmarks.fields):
- Scene: the lab's default, pyvista's textured globe (lab.fields.scenes), 100 training views and
  20 held-out views at 100 x 100 pixels on a white background, cameras on a sphere at 3.5 units.
- Budget: 1,000,000 parameters (a third of the 3,000,000 values the training views hold). Each
  family's declared size knob takes the largest value at or under it (engines.fields.registry;
  its other architecture settings fixed at their declared values); actual counts are printed.
- Heads and renderer: every family gets the same density and colour heads (radiance.field), the
  same renderer (stratified samples in the scene box, occupancy grid refreshed every 16 steps,
  culling of hidden samples) and the same loss (MSE of the colours of random training rays).
- Training settings: each family's learning rate, rays per step and samples per ray are its
  radiance declaration (``radiance=TaskDeclaration(...)`` beside the family, read as
  ``registry.recipe(name, "radiance")``), chosen by ``--tune``: the same grid of settings for
  every family on a tuning scene that is not in the benchmark (the nut), each run for the same
  time; its record is benchmarks/radiance_tuning.json (tests check the declarations hold its
  winners). Optimiser and schedule kinds are the family's declared (shape) ones.
- Time: wall-clock time of training steps and set-up (NeuRBF's k-means), one torch thread; the
  models take turns in slices of SLICE_SECONDS until each reaches the next mark, so that a change
  in the machine's load falls on all of them; evaluation is not timed. Each schedule spans the
  last mark in time, not in steps: after every step the planned step count is the steps done
  plus the remaining time over the median of the last steps (a radiance field's steps get
  several times cheaper once the occupancy grid has found empty space, so a step count fixed
  from the first steps would end the schedule far too early). ``--clock cpu`` counts the
  process's CPU time instead (for a shared machine).
- Metrics: held-out PSNR and SSIM (all 20 views) at 30, 60 and 120 s, depth error at 120 s.
- Targets (issue 17): the best RBF field >= 25 dB held-out within 120 s and >= every baseline at
  120 s; flatland: the learned density's mean absolute error < 5% of its range within 10 s (GNF,
  the flatland default); preview: a 100 x 100 novel view >= 1 Hz while training, and training
  with a preview every second keeps >= 0.8 of its headless speed.
``--quick``: GNF and grid + MLP only, marks at 10 and 20 s, 5 held-out views, then flatland and
the preview rows; about two minutes.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from dataclasses import dataclass, field as dc_field  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.report import Row, parse_args, report  # noqa: E402
from engines.errors import DivergenceError, InvalidInputError  # noqa: E402
from engines.fields.devices import resolve_device  # noqa: E402
from engines.fields.radiance import RadianceTrainer, RenderSettings, build_radiance_field  # noqa: E402
from engines.fields.radiance.flatland import flatland_scene, flatland_trainer  # noqa: E402
from engines.fields.radiance.settings import radiance_recipe  # noqa: E402
from engines.fields.registry import RBF_FIELDS  # noqa: E402
from engines.files import atomic_write_bytes  # noqa: E402

BUDGET = 1_000_000
SCENE, TUNING_SCENE = "globe", "nut"
FAMILIES = ("gnf", "neurbf", "grid_mlp", "hash_mlp", "nerf_mlp")
MARKS = (30.0, 60.0, 120.0)
QUICK_FAMILIES, QUICK_MARKS = ("gnf", "grid_mlp"), (10.0, 20.0)
SLICE_SECONDS = 1.0
FLATLAND_SECONDS = 10.0
PREVIEW_SIZE = 100
SEED = 0
CLOCKS = {"wall": lambda t: t.wall_time, "cpu": lambda t: t.cpu_time}
TUNING_RECORD = os.path.join(os.path.dirname(__file__), "radiance_tuning.json")
# the sweep (the same grid for every family): stage 1 the learning rate at TUNE_RAYS[0] rays and
# TUNE_SAMPLES[0] samples per ray; stage 2 the other ray counts at the best rate; stage 3 the
# other sample count at the best of those. Stage 0 (before): the layouts the lab chose between.
TUNE_LRS = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
TUNE_RAYS = (2048, 1024, 4096)
TUNE_SAMPLES = (64, 128)
TUNE_LAYOUTS = {"gnf": ({"n_kernels": 32}, {"n_kernels": 64})}  # GNF's NeRF vs its image/SDF units
TUNE_SECONDS = 30.0
TUNE_VIEWS = 6


@dataclass
class Entrant:
    """One family's model: its trainer and clock; its schedule spans ``horizon`` seconds."""
    name: str
    trainer: RadianceTrainer
    setup: float
    clock: str
    horizon: float
    diverged: str = ""
    recent: deque = dc_field(default_factory=lambda: deque(maxlen=15))
    results: dict = dc_field(default_factory=dict)

    def elapsed(self) -> float:
        return self.setup + CLOCKS[self.clock](self.trainer)

    def step_seconds(self) -> float:
        return statistics.median(self.recent) if self.recent else 0.0

    def train_until(self, mark: float) -> None:
        """Steps while the next one would end nearer to ``mark`` than past it; after each the
        schedule is stretched so that it ends at ``horizon``."""
        t = self.trainer
        while not self.diverged and self.elapsed() + 0.5 * self.step_seconds() < mark:
            before = self.elapsed()
            try:
                t.step(1)
            except DivergenceError as exc:
                self.diverged = str(exc)
                return
            self.recent.append(self.elapsed() - before)
            remaining = max(self.horizon - self.elapsed(), 0.0)
            t.total_steps = t.step_count + max(int(remaining / max(self.step_seconds(), 1e-6)), 1)


def make_trainer(name: str, data, seed: int = SEED, device="cpu", architecture=None, **settings) -> RadianceTrainer:
    """A family's radiance field at the budget with its declared settings (``settings`` may set
    lr, batch_rays and n_samples instead, ``architecture`` its knobs: the tuning sweep)."""
    model = build_radiance_field(name, dim=3, param_budget=BUDGET, seed=seed, **(architecture or {}))
    n_samples = settings.pop("n_samples", radiance_recipe(name).samples_per_ray)
    return RadianceTrainer(model, data, settings=RenderSettings(n_samples=n_samples), seed=seed, device=device,
                           total_steps=10 ** 6, **settings)


def enter(name, data, horizon, clock, device="cpu", architecture=None, **settings) -> Entrant:
    tick = time.perf_counter if clock == "wall" else time.process_time
    start = tick()
    trainer = make_trainer(name, data, device=device, architecture=architecture, **settings)
    return Entrant(name, trainer, tick() - start, clock, horizon)


def race(entrants: list[Entrant], marks, evaluate) -> None:
    """Models take turns in slices until each reaches a mark; each is then evaluated (untimed)."""
    for mark in marks:
        while any(not e.diverged and e.elapsed() + 0.5 * e.step_seconds() < mark for e in entrants):
            for e in entrants:
                e.train_until(min(mark, e.elapsed() + SLICE_SECONDS))
        for e in entrants:
            e.results[mark] = {**evaluate(e.trainer), "steps": e.trainer.step_count, "seconds": e.elapsed()}
            print(f"  {e.name:9s} @{mark:>5.0f}s  {e.results[mark]['steps']:5d} steps  "
                  f"PSNR {e.results[mark]['psnr']:.2f} dB  SSIM {e.results[mark].get('ssim', float('nan')):.3f}"
                  + (f"  (diverged: {e.diverged})" if e.diverged else ""), flush=True)


# --- the parts of the table ------------------------------------------------------------------
def scene_rows(data, families, marks, clock, device, max_views) -> tuple[list[Row], dict]:
    entrants = [enter(name, data, marks[-1], clock, device) for name in families]
    for e in entrants:
        print(f"  {e.name:9s} {e.trainer.field.param_count:,} parameters (size knob {e.trainer.field.field.knob})")
    race(entrants, marks, lambda t: t.evaluate(max_views=max_views))
    found = {e.name: e for e in entrants}
    rows = []
    for e in entrants:
        rows += [Row(f"{e.name} params", float(e.trainer.field.param_count), "params", "budget", float(BUDGET),
                     "<= budget", e.trainer.field.param_count <= BUDGET),
                 Row(f"{e.name} step (last 15)", 1000 * e.step_seconds(), "ms/step")]
    rbf = [n for n in families if n in RBF_FIELDS]
    baselines = [n for n in families if n not in RBF_FIELDS]
    last = marks[-1]
    for mark in marks:
        peer = max(baselines, key=lambda n: found[n].results[mark]["psnr"]) if baselines else None
        for name in families:
            value = found[name].results[mark]["psnr"]
            is_rbf = name in rbf and peer is not None
            rows.append(Row(f"{name} held-out PSNR @{mark:.0f}s", value, "dB",
                            peer if is_rbf else None, found[peer].results[mark]["psnr"] if is_rbf else None))
    for name in families:
        result = found[name].results[last]
        rows += [Row(f"{name} held-out SSIM @{last:.0f}s", result.get("ssim", float("nan")), ""),
                 Row(f"{name} depth MAE @{last:.0f}s", result.get("depth_mae", float("nan")), "scene units")]
    if rbf:
        best = max(rbf, key=lambda n: found[n].results[last]["psnr"])
        value = found[best].results[last]["psnr"]
        rows.append(Row(f"TARGET best RBF ({best}) held-out PSNR @{last:.0f}s", value, "dB", None, None,
                        ">= 25 dB", value >= 25.0))
        if baselines:
            peer = max(baselines, key=lambda n: found[n].results[last]["psnr"])
            peer_value = found[peer].results[last]["psnr"]
            rows.append(Row(f"TARGET best RBF ({best}) vs every baseline @{last:.0f}s", value, "dB", peer, peer_value,
                            ">= every baseline", value >= peer_value))
    return rows, found


def flatland_rows(clock, device, seconds=FLATLAND_SECONDS) -> list[Row]:
    scene = flatland_scene(seed=SEED)
    trainer = flatland_trainer("gnf", scene, seed=SEED, device=device, total_steps=10 ** 6)
    entrant = Entrant("gnf", trainer, 0.0, clock, seconds)
    entrant.train_until(seconds)
    result = trainer.evaluate(field_res=128)
    share = result["density_mae_share"]
    print(f"  flatland gnf: {trainer.step_count} steps, density MAE {100 * share:.2f}% of its range, "
          f"held-out PSNR {result['psnr']:.2f} dB", flush=True)
    return [Row(f"TARGET flatland density MAE @{seconds:.0f}s (gnf)", 100 * share, "% of range", None, None,
                "< 5%", bool(share < 0.05)),
            Row(f"flatland held-out PSNR @{seconds:.0f}s (gnf)", result["psnr"], "dB")]


def preview_rows(trainer: RadianceTrainer, seconds: float, clock: str, repeats: int = 5) -> list[Row]:
    """The room's preview: a PREVIEW_SIZE^2 novel view while training. Its render time, and the
    training speed with one preview a second against headless (alternating windows), on the
    benchmark's clock."""
    tick = time.perf_counter if clock == "wall" else time.process_time
    render = lambda: trainer.render_view(azimuth=40.0, elevation=25.0, size=PREVIEW_SIZE)  # noqa: E731
    times = []
    for _ in range(repeats):
        start = tick()
        render()
        times.append(tick() - start)
    render_s = statistics.median(times)
    speeds = {"headless": [], "previewing": []}
    for window in range(4):
        kind = "previewing" if window % 2 else "headless"
        start, steps = tick(), trainer.step_count
        next_preview = start
        while tick() - start < seconds / 4:
            if kind == "previewing" and tick() >= next_preview:
                render()
                next_preview += 1.0
            trainer.step(1)
        speeds[kind].append((trainer.step_count - steps) / (tick() - start))
    headless, previewing = np.mean(speeds["headless"]), np.mean(speeds["previewing"])
    print(f"  preview {PREVIEW_SIZE}^2: {1000 * render_s:.0f} ms; training {previewing:.2f} steps/s with a "
          f"preview each second vs {headless:.2f} headless", flush=True)
    return [Row(f"TARGET preview rate {PREVIEW_SIZE}x{PREVIEW_SIZE} (gnf)", 1 / render_s, "Hz", None, None,
                ">= 1 Hz", bool(1 / render_s >= 1.0)),
            Row("TARGET training speed with 1 Hz previews (gnf)", float(previewing), "steps/s", "headless",
                float(headless), ">= 0.8x headless", bool(previewing >= 0.8 * headless))]


# --- the tuning sweep --------------------------------------------------------------------------
def tune(families, clock, device, seconds=TUNE_SECONDS, path=TUNING_RECORD) -> None:
    """The recorded sweep: every family gets the same grid of settings on the tuning scene, each
    run trained for ``seconds`` (its schedule spanning them) and scored by held-out PSNR on
    TUNE_VIEWS views. Stage 0 picks among TUNE_LAYOUTS (at the declared recipe), stage 1 the
    learning rate (TUNE_LRS at TUNE_RAYS[0] rays, TUNE_SAMPLES[0] samples), stage 2 the rays per
    step (the rest of TUNE_RAYS at the best rate), stage 3 the samples per ray (the rest of
    TUNE_SAMPLES): 8 runs a family (10 with layouts). Runs already in the record with the same
    setting are reused (an interrupted sweep resumes); the winners go to record["recipes"], which
    the families' radiance declarations must hold (tests/engines/fields/test_radiance_settings.py).
    Sweeps of different families may run at once into separate records (``path``), merged after
    with ``--merge``."""
    from lab.fields.scenes import load_scene
    data = load_scene(TUNING_SCENE)
    record = _read_record(path)
    record["protocol"] = {"scene": TUNING_SCENE, "seconds": seconds, "clock": clock, "budget": BUDGET,
                          "held_out_views": TUNE_VIEWS, "learning_rates": list(TUNE_LRS), "rays": list(TUNE_RAYS),
                          "samples_per_ray": list(TUNE_SAMPLES), "layouts": TUNE_LAYOUTS, "seed": SEED,
                          "threads": 1, "torch": torch.__version__}

    def run(name, stage, layout, lr, rays, samples) -> dict:
        setting = {"family": name, "layout": layout, "lr": lr, "batch_size": rays, "samples_per_ray": samples}
        for done in record["runs"]:
            if {k: done[k] for k in setting} == setting:
                return done
        entrant = enter(name, data, seconds, clock, device, architecture=layout, lr=lr, batch_rays=rays,
                        n_samples=samples)
        entrant.train_until(seconds)
        psnr = entrant.trainer.evaluate(max_views=TUNE_VIEWS)["psnr"] if not entrant.diverged else float("nan")
        found = {**setting, "stage": stage, "psnr": round(psnr, 3), "steps": entrant.trainer.step_count,
                 "diverged": bool(entrant.diverged)}
        print(f"  {name:9s} {stage:8s} {json.dumps(layout):18s} lr {lr:.0e} rays {rays:5d} samples {samples:4d}: "
              f"{psnr:6.2f} dB ({found['steps']} steps){' diverged' if entrant.diverged else ''}", flush=True)
        record["runs"].append(found)
        _write_record(record, path)
        return found

    def best(runs):
        return max(runs, key=lambda r: r["psnr"] if np.isfinite(r["psnr"]) else -1.0)

    for name in families:
        declared = radiance_recipe(name)
        layouts = TUNE_LAYOUTS.get(name, ({},))
        layout = layouts[0] if len(layouts) == 1 else best(
            [run(name, "layout", lay, declared.lr, declared.batch_size, declared.samples_per_ray)
             for lay in layouts])["layout"]
        rays, samples = TUNE_RAYS[0], TUNE_SAMPLES[0]
        lr = best([run(name, "rate", layout, lr, rays, samples) for lr in TUNE_LRS])["lr"]
        rays = best([run(name, "rays", layout, lr, r, samples) for r in TUNE_RAYS])["batch_size"]
        winner = best([run(name, "samples", layout, lr, rays, s) for s in TUNE_SAMPLES])
        record["recipes"][name] = {k: winner[k] for k in ("lr", "batch_size", "samples_per_ray", "layout", "psnr")}
        _write_record(record, path)
        print(f"    {name}: {record['recipes'][name]}", flush=True)


def _read_record(path=TUNING_RECORD) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"recipes": {}, "runs": []}


def _write_record(record: dict, path=TUNING_RECORD) -> None:
    atomic_write_bytes(path, (json.dumps(record, indent=1) + "\n").encode())


def merge_records(paths, into=TUNING_RECORD) -> None:
    """Runs and winners of separate sweeps (one family each) joined into one record."""
    record = _read_record(into)
    for path in paths:
        part = _read_record(path)
        names = set(part["recipes"])
        record["runs"] = [r for r in record["runs"] if r["family"] not in names] + \
            [r for r in part["runs"] if r["family"] in names]
        record["recipes"].update(part["recipes"])
        record.setdefault("protocol", part.get("protocol"))
    _write_record(record, into)


def _extra_flags(parser):
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall-clock time (the protocol; needs a quiet machine) or process CPU time")
    parser.add_argument("--families", default=None, help="comma list of families (default: the protocol's)")
    parser.add_argument("--tune", action="store_true", help="run the tuning sweep and write its record")
    parser.add_argument("--record", default=TUNING_RECORD, help="the sweep's record (default: the recorded one)")
    parser.add_argument("--merge", nargs="+", default=None, help="merge these sweep records into --record")


def _device(choice: str):
    """The torch device asked for, or a clean exit saying why it cannot be had."""
    try:
        return resolve_device(choice)
    except InvalidInputError as exc:
        raise SystemExit(f"benchmarks.radiance: {exc}") from None


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv, extra=_extra_flags)
    device = _device(args.device)
    torch.set_num_threads(1)
    families = tuple(args.families.split(",")) if args.families else (QUICK_FAMILIES if args.quick else FAMILIES)
    if args.merge:
        merge_records(args.merge, args.record)
        return
    if args.tune:
        tune(families, args.clock, device, path=args.record)
        return
    from lab.fields.scenes import load_scene
    started = time.perf_counter()
    data = load_scene(SCENE)
    print(f"scene {SCENE}: {len(data.train)} training + {len(data.test)} held-out views at "
          f"{data.train.size[1]}x{data.train.size[0]} ({time.perf_counter() - started:.1f} s to render or read)")
    marks = QUICK_MARKS if args.quick else MARKS
    rows, found = scene_rows(data, families, marks, args.clock, device, max_views=5 if args.quick else None)
    rows += flatland_rows(args.clock, device)
    if "gnf" in found:
        rows += preview_rows(found["gnf"].trainer, 8.0 if args.quick else 20.0, args.clock)
    notes = [f"torch {torch.__version__}, 1 thread, device {device}, seed {SEED}, {args.clock} clock "
             "(training steps + set-up; evaluation excluded)",
             f"budget {BUDGET:,} parameters; models take turns in {SLICE_SECONDS:.0f} s slices; settings: "
             "each family's radiance declaration (swept: benchmarks/radiance_tuning.json)",
             f"held-out views: {5 if args.quick else len(data.test)}; wall-clock figures need a quiet machine"]
    report(rows, args, "Radiance fields: RBF fields vs baselines (default scene)", notes)


if __name__ == "__main__":
    main()
