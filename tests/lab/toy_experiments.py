"""A toy experiment for the framework's tests: counting noisy coins, judged by a fixed rule.

Its measure is deterministic under the seed, and the condition decides the outcome, so tests can
see both verdicts without running a real model.
"""
from lab.experiments.spec import Claim, Experiment, Figure, Prediction

import numpy as np


def coin_counts(condition, seed, size):
    """Heads counted in ``flips`` throws of a coin with P(heads) = condition's bias, per round."""
    rng = np.random.default_rng(seed)
    for round_ in range(size["rounds"]):
        heads = int((rng.random(size["flips"]) < condition["bias"]).sum())
        yield {"round": round_, "share of heads": heads / size["flips"]}


def fair_coin(table):
    """Reproduced when every bias condition's mean share of heads is within 0.1 of one half."""
    means = table.groupby("bias")["share of heads"].mean()
    fair = bool((means - 0.5).abs().max() <= 0.1)
    return {"reproduced": fair, "observed": "fair" if fair else "biased",
            "summary": f"shares of heads {', '.join(f'{m:.2f}' for m in means)}",
            "numbers": {f"bias {b}": float(m) for b, m in means.items()}}


def toy(experiment_id, biases, settings=None):
    return Experiment(
        id=experiment_id, room="demo", title=f"Coins {experiment_id}", question="Is the coin fair?",
        predictions=(Prediction("fair", "It is fair"), Prediction("biased", "It is biased")),
        settings=settings or {}, conditions=tuple({"bias": b} for b in biases),
        sizes={"smoke": {"seeds": 2, "rounds": 3, "flips": 200}, "quick": {"seeds": 3, "rounds": 5, "flips": 400},
               "full": {"seeds": 5, "rounds": 10, "flips": 1000}},
        measure=coin_counts, judge=fair_coin,
        figure=Figure("line", x="round", y="share of heads", group="bias", x_label="round", y_label="share"),
        claim=Claim("The coin is fair.", source="a toy", tolerance="every mean within 0.1 of 0.5"),
        explanation="Coins are fair when nobody bends them.")


FAIR = toy("fair-coin", [0.5], settings={"count_to": 25})
BENT = toy("bent-coin", [0.5, 0.9])
EXPERIMENTS = (FAIR, BENT)
