"""The neural fields room's experiments (see spec.py beside this file for what an experiment is).

Measure and judge functions use the engines only and import them inside their bodies (listing
experiments stays cheap; `python -m lab.experiments export ID` copies them into a script).
Fields are built by name through the registry and trained with their family's declared recipe
(engines/fields/family.py), one torch thread, as the room and the benchmark do.
"""
from __future__ import annotations

from lab.experiments.spec import Claim, Experiment, Figure, Prediction


def trained_psnr(trainer):
    """PSNR (dB) of the whole reconstruction (every pixel) at the trainer's current state."""
    from engines.fields.metrics import psnr
    reconstruction, _ = trainer.reconstruction()
    image = trainer.target.image
    return float(psnr(reconstruction.reshape(image.shape), image))


def psnr_over_time(condition, seed, size):
    """One field at the parameter budget, trained for ``seconds`` of wall time; PSNR every ``every`` s."""
    from engines.fields.images import ImageTarget
    from engines.fields.registry import build_field
    from engines.fields.trainer import Trainer
    target = ImageTarget(size["image"], size=size["pixels"])
    field = build_field(condition["model"], 2, target.channels, param_budget=size["budget"], seed=seed)
    trainer = Trainer(field, target, total_steps=size["steps_hint"], seed=seed)
    checkpoint = size["every"]
    while trainer.wall_time < size["seconds"]:
        trainer.step(5)
        if trainer.wall_time >= checkpoint:
            yield {"training time (s)": round(checkpoint, 3), "PSNR (dB)": trained_psnr(trainer),
                   "parameters": field.param_count}
            checkpoint += size["every"]


def rbf_leads(table):
    """Reproduced when GNF's mean PSNR is at least every baseline's at the last time mark and at
    the middle one (means over seeds)."""
    mean = table.groupby(["model", "training time (s)"])["PSNR (dB)"].mean().unstack(0)
    marks = [mean.index[len(mean.index) // 2], mean.index[-1]]
    lead = {t: float(mean.loc[t, "gnf"] - mean.loc[t].drop("gnf").max()) for t in marks}
    best_baseline = mean.loc[marks[-1]].drop("gnf").idxmax()
    reproduced = all(v >= 0 for v in lead.values())
    observed = "rbf" if reproduced else ("mlp" if best_baseline == "siren" else "grid")
    summary = ", ".join(f"at {t:g} s GNF {mean.loc[t, 'gnf']:.2f} dB vs best baseline "
                        f"{mean.loc[t].drop('gnf').max():.2f} dB" for t in marks)
    return {"reproduced": reproduced, "observed": observed, "summary": summary,
            "numbers": {f"lead at {t:g} s (dB)": v for t, v in lead.items()}}


RBF_VS_MLP = Experiment(
    id="rbf-vs-mlp",
    room="fields",
    title="RBF vs MLP at an equal parameter budget",
    question="Give a Gaussian RBF network (GNF), a dense grid + MLP and a SIREN the same number of "
             "parameters and the same training time on one image: which reconstructs it best?",
    predictions=(
        Prediction("rbf", "GNF: one layer of Gaussian units over feature grids"),
        Prediction("grid", "The dense grid + MLP"),
        Prediction("mlp", "SIREN, the sine-activated MLP"),
    ),
    settings={"task": "image", "model": "gnf"},
    conditions=({"model": "gnf"}, {"model": "grid_mlp"}, {"model": "siren"}),
    sizes={
        "smoke": {"seeds": 1, "image": "camera", "pixels": 48, "budget": 8_000, "seconds": 0.6, "every": 0.3,
                  "steps_hint": 200},
        "quick": {"seeds": 2, "image": "astronaut", "pixels": 128, "budget": 50_000, "seconds": 6.0, "every": 1.0,
                  "steps_hint": 2000},
        "full": {"seeds": 3, "image": "astronaut", "pixels": 256, "budget": 200_000, "seconds": 30.0, "every": 2.0,
                 "steps_hint": 10000},
    },
    measure=psnr_over_time,
    judge=rbf_leads,
    figure=Figure("line", x="training time (s)", y="PSNR (dB)", group="model", x_label="training time (s)",
                  y_label="PSNR (dB)"),
    claim=Claim("Replacing MLP neurons by Gaussian RBF units gives accurate fields with a single layer, fast "
                "to train: at an equal budget an RBF field beats MLP and grid baselines.",
                source="Bouzidi et al. 2025, 'Gaussian RBFNet' (abstract and image-fitting results)",
                tolerance="GNF's mean PSNR over seeds is at least every baseline's at the middle and the last "
                          "time mark, at the same parameter budget and wall-clock training time"),
    explanation=(
        "A ReLU neuron splits space with a hyperplane: an MLP needs many of them, in several layers, to carve "
        "out a detailed image, and SIREN needs careful initialisation to use its sines. GNF's Gaussian units "
        "respond to a neighbourhood in feature space, so one layer over coarse feature grids already "
        "represents detail, and its gradient steps are cheap. Each family trains with its own tuned recipe "
        "(learning rate, batch) from the lab's fields benchmark, so the comparison is fair."),
    wall_clock=True,
)


def psnr_by_grid(condition, seed, size):
    """One field per finest grid resolution, trained for a fixed number of steps; PSNR after them."""
    from engines.fields.images import ImageTarget
    from engines.fields.registry import build_field
    from engines.fields.trainer import Trainer
    target = ImageTarget(size["image"], size=size["pixels"])
    for resolution in size["resolutions"]:
        field = build_field(condition["model"], 2, target.channels, seed=seed, grid_resolution=resolution)
        trainer = Trainer(field, target, total_steps=size["steps"], seed=seed)
        trainer.step(size["steps"])
        yield {"finest grid (cells)": resolution, "PSNR (dB)": trained_psnr(trainer),
               "parameters": field.param_count}


def coarse_grids_enough(table):
    """Reproduced when, at the two coarsest grids, GNF beats grid + MLP by at least 1 dB on average
    and loses less PSNR than grid + MLP from the finest grid to the coarsest."""
    mean = table.groupby(["model", "finest grid (cells)"])["PSNR (dB)"].mean().unstack(0)
    coarse = mean.index[:2]
    margin = float((mean.loc[coarse, "gnf"] - mean.loc[coarse, "grid_mlp"]).mean())
    drop = {m: float(mean[m].iloc[-1] - mean[m].iloc[0]) for m in ("gnf", "grid_mlp")}
    reproduced = margin >= 1.0 and drop["gnf"] < drop["grid_mlp"]
    observed = "gnf-holds" if reproduced else ("both-drop" if margin < 1.0 else "gnf-drops-more")
    summary = (f"at the coarsest grids GNF leads by {margin:+.2f} dB; from the finest to the coarsest grid GNF "
               f"loses {drop['gnf']:.2f} dB, grid + MLP {drop['grid_mlp']:.2f} dB")
    return {"reproduced": reproduced, "observed": observed, "summary": summary,
            "numbers": {"coarse_margin_db": margin, "gnf_drop_db": drop["gnf"], "grid_mlp_drop_db": drop["grid_mlp"]}}


COARSE_GRIDS = Experiment(
    id="coarse-grids",
    room="fields",
    title="Gaussian kernels make coarse grids enough",
    question="Lower the resolution of the feature grids. Which suffers more: GNF (Gaussian units reading the "
             "grids) or a dense grid + MLP?",
    predictions=(
        Prediction("gnf-holds", "GNF keeps its quality much better on coarse grids"),
        Prediction("both-drop", "Both lose about the same"),
        Prediction("gnf-drops-more", "GNF loses more"),
    ),
    settings={"task": "image", "model": "gnf", "compare_model": "grid_mlp"},
    conditions=({"model": "gnf"}, {"model": "grid_mlp"}),
    sizes={
        "smoke": {"seeds": 1, "image": "camera", "pixels": 48, "resolutions": [8, 16, 32], "steps": 40},
        "quick": {"seeds": 1, "image": "astronaut", "pixels": 128, "resolutions": [16, 32, 64, 128], "steps": 200},
        "full": {"seeds": 3, "image": "astronaut", "pixels": 256, "resolutions": [16, 32, 64, 128, 256],
                 "steps": 1000},
    },
    measure=psnr_by_grid,
    judge=coarse_grids_enough,
    figure=Figure("line", x="finest grid (cells)", y="PSNR (dB)", group="model", x_label="finest grid resolution "
                  "(cells per side)", y_label="PSNR after a fixed number of steps (dB)", log_x=True),
    claim=Claim("The representation operates on low-resolution feature grids: the RBF layer, not the grid's "
                "resolution, carries the detail.",
                source="Bouzidi et al. 2025, 'Gaussian RBFNet' (abstract)",
                tolerance="at the two coarsest grids GNF's mean PSNR is at least 1 dB above grid + MLP's, and "
                          "it loses less PSNR than grid + MLP from the finest grid to the coarsest"),
    explanation=(
        "A dense grid interpolates its features linearly between nodes: with few nodes, the MLP after it sees "
        "smooth, nearly linear features and cannot recover the image's edges. GNF's Gaussian units take the "
        "same features and respond sharply to particular feature combinations, so fine structure can come "
        "from the units even when the grid is coarse; its parameters sit in the units and grids together."),
)


def kernels_and_psnr(condition, seed, size):
    """NeuRBF with its kernels placed by weighted k-means (weights: the image gradient) or spread
    uniformly (k-means with equal weights), with or without sinusoid composition; kernels frozen.
    Yields the kernel centres (for the figure) and the PSNR after ``steps``."""
    import numpy as np
    import torch
    from engines.fields.images import ImageTarget
    from engines.fields.registry import build_field
    from engines.fields.trainer import Trainer
    target = ImageTarget(size["image"], size=size["pixels"])
    field = build_field("neurbf", 2, target.channels, seed=seed, n_kernels=size["kernels"])
    if not condition["sinusoids"]:   # one frequency in every channel: a plain, monotonic radial basis
        field.rbf.omega.fill_(1.0)
    trainer = Trainer(field, target, total_steps=size["steps"], seed=seed)
    if condition["placement"] == "uniform":
        points, weights = target.init_points()
        field.initialise(points, np.ones_like(weights), seed=seed)
    trainer.step(size["steps"])
    label = f"{condition['placement']}, sinusoids {'on' if condition['sinusoids'] else 'off'}"
    if seed == 0:
        with torch.no_grad():
            for x, y in field.rbf.centres.detach().cpu().numpy()[: size["drawn"]]:
                yield {"kernels": label, "centre x": float(x), "centre y": float(-y), "PSNR (dB)": np.nan}
    yield {"kernels": label, "centre x": np.nan, "centre y": np.nan, "PSNR (dB)": trained_psnr(trainer)}


def detail_and_sinusoids_help(table):
    """Reproduced when k-means placement beats uniform placement by >= 0.5 dB (sinusoids on) and
    sinusoid composition beats none by >= 0.5 dB (k-means placement), means over seeds."""
    scores = table.dropna(subset=["PSNR (dB)"]).groupby(["placement", "sinusoids"])["PSNR (dB)"].mean()
    placement_gain = float(scores[("weighted k-means", True)] - scores[("uniform", True)])
    sinusoid_gain = float(scores[("weighted k-means", True)] - scores[("weighted k-means", False)])
    both = placement_gain >= 0.5 and sinusoid_gain >= 0.5
    observed = "both" if both else ("placement" if placement_gain >= 0.5 else
                                    ("sinusoids" if sinusoid_gain >= 0.5 else "neither"))
    summary = (f"k-means placement {placement_gain:+.2f} dB over uniform; sinusoid composition "
               f"{sinusoid_gain:+.2f} dB over a single frequency")
    return {"reproduced": both, "observed": observed, "summary": summary,
            "numbers": {"placement_gain_db": placement_gain, "sinusoid_gain_db": sinusoid_gain}}


ADAPTIVE_KERNELS = Experiment(
    id="adaptive-kernels",
    room="fields",
    title="Adaptive kernels go where the detail is",
    question="NeuRBF places its kernels by a weighted k-means on the image's gradient and composes each with "
             "sinusoids of many frequencies. Which of the two matters for the reconstruction?",
    predictions=(
        Prediction("both", "Both: kernels on the detail, and the sinusoids"),
        Prediction("placement", "Only where the kernels are placed"),
        Prediction("sinusoids", "Only the sinusoid composition"),
        Prediction("neither", "Neither makes a clear difference"),
    ),
    settings={"task": "image", "model": "neurbf"},
    conditions=({"placement": "weighted k-means", "sinusoids": True}, {"placement": "uniform", "sinusoids": True},
                {"placement": "weighted k-means", "sinusoids": False}),
    sizes={
        "smoke": {"seeds": 1, "image": "camera", "pixels": 48, "kernels": 64, "steps": 30, "drawn": 64},
        "quick": {"seeds": 1, "image": "camera", "pixels": 128, "kernels": 512, "steps": 300, "drawn": 512},
        "full": {"seeds": 3, "image": "camera", "pixels": 256, "kernels": 2048, "steps": 1500, "drawn": 2048},
    },
    measure=kernels_and_psnr,
    judge=detail_and_sinusoids_help,
    figure=Figure("scatter", x="centre x", y="centre y", group="kernels", x_label="x (image width = 2)",
                  y_label="y (image height = 2)"),
    claim=Claim("Adaptive radial bases placed by the signal fit it more closely than fixed placements, and "
                "composing them with multi-frequency sinusoids adds detail without extra parameters.",
                source="Chen et al. 2023, 'NeuRBF' (abstract; ablations of initialisation and sinusoid "
                       "composition)",
                tolerance="weighted k-means placement beats uniform placement by at least 0.5 dB, and sinusoid "
                          "composition beats a single frequency by at least 0.5 dB (means over seeds)"),
    explanation=(
        "The figure shows where the kernels sit: weighted k-means, with the image gradient as weights, packs "
        "them along edges and textures, where a uniform placement wastes them on flat sky. Each kernel's "
        "response phi is then read through sin(phi * omega) at many frequencies omega, so one kernel "
        "contributes a whole band of radial waves: detail for free, which a single frequency cannot give."),
)


def error_by_band(condition, seed, size):
    """How much error is left in low, middle and high spatial frequencies as one field trains."""
    import numpy as np
    from engines.fields.images import ImageTarget
    from engines.fields.registry import build_field
    from engines.fields.trainer import Trainer
    target = ImageTarget(size["image"], size=size["pixels"], grey=True)
    field = build_field(condition["model"], 2, 1, param_budget=size["budget"], seed=seed)
    trainer = Trainer(field, target, total_steps=size["steps"], seed=seed)
    image = target.image[..., 0]
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(image.shape[0]), np.fft.fftfreq(image.shape[1]), indexing="ij"))
    bands = {"low": radius < 0.05, "middle": (radius >= 0.05) & (radius < 0.15), "high": radius >= 0.15}
    truth = {name: float((np.abs(np.fft.fft2(image)) ** 2)[mask].sum()) for name, mask in bands.items()}
    for step in range(0, size["steps"] + 1, size["every"]):
        if step:
            trainer.step(size["every"])
        reconstruction, _ = trainer.reconstruction()
        spectrum = np.abs(np.fft.fft2(reconstruction.reshape(image.shape) - image)) ** 2
        for name, mask in bands.items():
            yield {"series": f"{condition['model']}, {name}", "band": name, "step": step,
                   "error left": float(spectrum[mask].sum() / max(truth[name], 1e-12))}


def low_frequencies_first(table):
    """Reproduced when the plain MLP has removed a larger share of its low-band error than of its
    high-band error by the middle of training, and Fourier features or SIREN end with less
    high-band error than the plain MLP."""
    mean = table.groupby(["model", "band", "step"])["error left"].mean()
    middle = sorted(table["step"].unique())[len(table["step"].unique()) // 2]
    last = table["step"].max()
    low, high = float(mean[("mlp", "low", middle)]), float(mean[("mlp", "high", middle)])
    encoded_high = min(float(mean[(m, "high", last)]) for m in ("fourier_mlp", "siren"))
    plain_high = float(mean[("mlp", "high", last)])
    bias = low < high
    encodings_help = encoded_high < plain_high
    reproduced = bias and encodings_help
    observed = "low-first" if bias else "high-first"
    summary = (f"plain MLP at step {middle}: {low:.0%} of the low-band error left vs {high:.0%} of the "
               f"high-band; at step {last} high-band error left: plain MLP {plain_high:.0%}, best of Fourier "
               f"features / SIREN {encoded_high:.0%}")
    return {"reproduced": reproduced, "observed": observed, "summary": summary,
            "numbers": {"mlp_low_left": low, "mlp_high_left": high, "mlp_high_left_end": plain_high,
                        "encoded_high_left_end": encoded_high}}


SPECTRAL_BIAS = Experiment(
    id="spectral-bias",
    room="fields",
    title="Spectral bias: coarse first, detail later",
    question="A plain MLP on raw coordinates, an MLP on Fourier features and a SIREN learn the same image. "
             "Which spatial frequencies does the plain MLP learn first?",
    predictions=(
        Prediction("low-first", "Low frequencies first: a blurry image that slowly sharpens"),
        Prediction("high-first", "High frequencies first: edges before the overall shading"),
    ),
    settings={"task": "image", "model": "fourier_mlp", "compare_model": "siren"},
    conditions=({"model": "mlp"}, {"model": "fourier_mlp"}, {"model": "siren"}),
    sizes={
        "smoke": {"seeds": 1, "image": "camera", "pixels": 32, "budget": 8_000, "steps": 20, "every": 10},
        "quick": {"seeds": 1, "image": "camera", "pixels": 64, "budget": 30_000, "steps": 200, "every": 40},
        "full": {"seeds": 3, "image": "camera", "pixels": 128, "budget": 100_000, "steps": 2000, "every": 200},
    },
    measure=error_by_band,
    judge=low_frequencies_first,
    figure=Figure("line", x="step", y="error left", group="series", x_label="training step",
                  y_label="share of the band's energy still in the error"),
    claim=Claim("Neural networks learn low frequencies first (the spectral bias); Fourier features and sine "
                "activations let them learn high frequencies.",
                source="Rahaman et al. 2019, 'On the spectral bias of neural networks'; Tancik et al. 2020, "
                       "'Fourier features let networks learn high frequency functions'",
                tolerance="by the middle of training the plain MLP has less of its low-band error left than of its "
                          "high-band error, and Fourier features or SIREN end with less high-band error than it"),
    explanation=(
        "Gradient descent on a ReLU MLP fits smooth functions fastest: its neural tangent kernel decays quickly "
        "with frequency, so coarse shading converges in tens of steps while edges and texture take thousands. "
        "Mapping coordinates to sin and cos of many frequencies (Fourier features), or using sines as "
        "activations (SIREN), widens that kernel so high frequencies are learned at a comparable rate."),
)

EXPERIMENTS = (RBF_VS_MLP, COARSE_GRIDS, ADAPTIVE_KERNELS, SPECTRAL_BIAS)
