"""Neural fields benchmark: RBF fields (GNF, NeuRBF) beside SIREN, Fourier MLP, hash grid + MLP
and dense grid + MLP, at an equal parameter budget, on the astronaut image and two SDF shapes,
plus 128^3 evaluation + marching cubes.

    python -m benchmarks.fields [--quick] [--json PATH] [--device cpu|cuda|auto]

One torch thread on the CPU (the default device), seed 0 for every model; --device cuda trains
every field on the GPU (it stops with a message when torch sees none; auto takes it when present). Quality is read at fixed amounts of *training* time
(evaluation is not counted); each model's learning-rate schedule is stretched over the longest
budget from its own measured ms/step, so every model gets the same treatment. The clock is the
process's CPU time by default: on a shared machine wall time also counts the time other
processes held the core; on an idle machine the two agree (--clock wall to use wall time).
On a GPU the clock is wall time by default (GPU work does not show in the process's CPU time).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import warnings

import torch

from benchmarks.report import Row, median_time, parse_args, report
from engines.errors import InvalidInputError
from engines.fields import FIELD_NAMES, RBF_FIELDS, ImageTarget, SdfTarget, build_field, extract_mesh
from engines.fields.devices import resolve_device
from engines.fields.trainer import Trainer

BASELINES = [n for n in FIELD_NAMES if n not in RBF_FIELDS]


CLOCK = {"cpu": lambda t: t.cpu_time, "wall": lambda t: t.wall_time}


def train_for(field, target, marks, evaluate, clock, batch_size=None, seed=0, device="cpu"):
    """Train until each time mark; returns ({mark: metrics}, ms/step, trainer)."""
    elapsed = CLOCK[clock]
    trainer = Trainer(field, target, batch_size=batch_size, seed=seed, total_steps=10 ** 6, device=device)
    trainer.step(3)  # measure speed, then stretch the lr schedule over the longest budget
    ms = 1000 * elapsed(trainer) / trainer.step_count
    trainer.total_steps = max(int(marks[-1] * 1000 / ms), 10)
    results = {}
    for mark in marks:
        while elapsed(trainer) < mark:
            trainer.step(1)
        results[mark] = evaluate(trainer)
    return results, 1000 * elapsed(trainer) / trainer.step_count, trainer


def image_rows(size, marks, names, seed, clock, device="cpu"):
    target = ImageTarget("astronaut", size=size)
    budget = build_field("gnf", 2, 3, knob=size).param_count  # GNF's grid matches the image
    found, rows = {}, []
    for name in names:
        field = build_field(name, 2, 3, param_budget=budget, seed=seed)
        res, ms, _ = train_for(field, target, marks, lambda t: t.evaluate()["psnr"], clock, seed=seed,
                               device=device)
        found[name] = res
        rows += [Row(f"{name} {size}^2 params", float(field.param_count), "params", "budget", float(budget)),
                 Row(f"{name} {size}^2 step", ms, "ms/step")]
        print(f"  {name:12s} {size}^2  " + "  ".join(f"{m}s {v:.2f} dB" for m, v in res.items()), flush=True)
    for mark in marks:
        peer = max((n for n in names if n in BASELINES), key=lambda n: found[n][mark], default=None)
        for name in names:
            is_rbf = name in RBF_FIELDS and peer is not None
            rows.append(Row(f"{name} {size}^2 PSNR @{mark}s", found[name][mark], "dB",
                            peer if is_rbf else None, found[peer][mark] if is_rbf else None,
                            ">= best baseline" if is_rbf else None,
                            found[name][mark] >= found[peer][mark] if is_rbf else None))
    return rows, found


def sdf_rows(shape, marks, names, seed, mesh_res, pool_size, clock, device="cpu"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target = SdfTarget(shape, seed=seed, pool_size=pool_size, n_eval=pool_size // 2)
    budget = build_field("gnf", 3, 1).param_count
    found, rows, fields = {}, [], {}

    def evaluate(trainer):
        m = trainer.evaluate(mesh_res=mesh_res, n_surface=20_000)
        return m["iou"], m["chamfer_l1"]

    for name in names:
        field = build_field(name, 3, 1, param_budget=budget, seed=seed)
        res, ms, trainer = train_for(field, target, marks, evaluate, clock, batch_size=8192, seed=seed,
                                     device=device)
        found[name], fields[name] = res, trainer.field
        rows.append(Row(f"{name} {shape} step", ms, "ms/step", None, None))
        print(f"  {name:12s} {shape}  " + "  ".join(f"{m}s IoU {v[0]:.3f} CD {v[1]:.4f}" for m, v in res.items()), flush=True)
    for mark in marks:
        peer = max((n for n in names if n in BASELINES), key=lambda n: found[n][mark][0], default=None)
        for name in names:
            is_rbf = name in RBF_FIELDS and peer is not None
            rows.append(Row(f"{name} {shape} IoU @{mark}s", found[name][mark][0], "IoU",
                            peer if is_rbf else None, found[peer][mark][0] if is_rbf else None))
            rows.append(Row(f"{name} {shape} Chamfer-L1 @{mark}s", found[name][mark][1], "",
                            peer if is_rbf else None, found[peer][mark][1] if is_rbf else None))
    return rows, found, fields


def marching_cubes_rows(fields, res, repeats):
    """Time 128^3 evaluation + marching cubes of the *trained* SDF fields (a trained field's
    surface, not a random one, sets how much work marching cubes does)."""
    times = {name: median_time(lambda f=field: extract_mesh(f.eval(), res), repeats=repeats)
             for name, field in fields.items() if name in ("gnf", "grid_mlp")}
    peer = "grid_mlp" if "grid_mlp" in times else None
    return [Row(f"gnf eval+marching cubes {res}^3", times["gnf"], "s", peer,
                times.get(peer), "< 2 s", times["gnf"] < 2.0)]


def target_rows(images, shapes):
    rows = []
    if 256 in images and 10 in next(iter(images[256].values())):
        best = max(images[256][n][10] for n in RBF_FIELDS if n in images[256])
        rows.append(Row("TARGET RBF PSNR 256^2 @10s", best, "dB", None, None, ">= 40 dB", best >= 40))
    for size, found in images.items():
        for mark in next(iter(found.values())):
            rbf = max(found[n][mark] for n in RBF_FIELDS if n in found)
            base = max(found[n][mark] for n in BASELINES if n in found)
            rows.append(Row(f"TARGET RBF vs baselines {size}^2 @{mark}s", rbf, "dB", "best baseline", base,
                            ">= every baseline", rbf >= base))
    for shape, found in shapes.items():
        last = max(next(iter(found.values())))
        best = max(found[n][last][0] for n in RBF_FIELDS if n in found)
        rows.append(Row(f"TARGET RBF IoU {shape} @{last}s", best, "IoU", None, None, ">= 0.98", best >= 0.98))
    return rows


def _extra_flags(parser):
    parser.add_argument("--clock", choices=sorted(CLOCK), default=None,
                        help="training-time clock (default: process CPU time; wall time on a GPU)")
    parser.add_argument("--tasks", default="image,sdf", help="comma list of image, sdf")
    parser.add_argument("--sdf-fields", default=",".join(FIELD_NAMES),
                        help="comma list of fields for the SDF part (SIREN / Fourier MLP take minutes "
                             "per 128^3 evaluation on a 2-core CPU)")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv, extra=_extra_flags)
    try:
        device = resolve_device(args.device)
    except InvalidInputError as exc:
        raise SystemExit(f"benchmarks.fields: {exc}") from None
    on_gpu = device.type == "cuda"
    clock = args.clock or ("wall" if on_gpu else "cpu")
    torch.set_num_threads(1)  # the CPU side (data, KD-trees, marching cubes) stays on one thread
    seed = 0
    if args.quick:
        sizes, img_marks, shape_list, sdf_marks, names, sdf_names, mesh_res, pool, repeats = (
            [128], [1, 2], ["csg"], [3], FIELD_NAMES, ["gnf", "grid_mlp"], 64, 50_000, 1)
    else:
        sizes, img_marks, shape_list, sdf_marks, names, sdf_names, mesh_res, pool, repeats = (
            [256, 512], [5, 10, 30], ["nut", "csg"], [5, 15], FIELD_NAMES, FIELD_NAMES, 128, 200_000, 3)
    tasks = set(args.tasks.split(","))
    if not args.quick:
        sdf_names = tuple(n for n in args.sdf_fields.split(",") if n in FIELD_NAMES)
    sizes, shape_list = (sizes if "image" in tasks else []), (shape_list if "sdf" in tasks else [])
    rows, images, shapes = [], {}, {}
    for size in sizes:
        r, images[size] = image_rows(size, img_marks, names, seed, clock, device)
        rows += r
    for shape in shape_list:
        r, shapes[shape], fields = sdf_rows(shape, sdf_marks, sdf_names, seed, mesh_res, pool, clock, device)
        rows += r
    if shape_list and "gnf" in sdf_names:
        rows += marching_cubes_rows(fields, 128, repeats)
    rows += target_rows(images, shapes)
    where = (f"device {device} ({torch.cuda.get_device_name(device)})" if on_gpu
             else f"{torch.get_num_threads()} thread, device {device}")
    notes = [f"torch {torch.__version__}, {where}, seed {seed}",
             f"quality read at training-time marks on the {clock} clock (evaluation excluded); "
             "equal parameter budgets",
             "image budget = GNF with its finest grid at the image size; SDF budget = GNF default (knob 64)",
             f"SDF batch 8192 from a {pool:,}-sample 4:3:1 pool; Chamfer-L1 from marching cubes at {mesh_res}^3",
             "the marching-cubes row is wall time" if on_gpu else
             "shared 2-core CPU: wall seconds are pessimistic (the marching-cubes row is wall time)"]
    report(rows, args, "Neural fields: RBF fields vs baselines", notes)


if __name__ == "__main__":
    main()
