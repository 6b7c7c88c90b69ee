"""The worm activity room's experiments (see spec.py beside this file for what an experiment is).

The measure and judge functions use the engines only and import them inside their bodies: this
module is imported to list experiments (the home page does), and `python -m lab.experiments
export ID` copies the functions into a script that runs without the lab.

All three run on the room's default, the simulated worms (engines/worms/simulate.py), whose
behaviour states and encodings are known exactly; each worm is measured under the lab's standard
preprocessing (engines.worms.statistics.standard_stretch: 0.6 s samples, z-scored), over its whole run.
The low-dimensional brain also runs, in the room, on the recording on show when it is a real one
(``recording_on_show``): its measure then takes that recording instead of simulating worms.
"""
from __future__ import annotations

from lab.experiments.spec import Claim, Experiment, Figure, Prediction, RoomData

# The room's simulated default (lab/worms/sources.py), named as the room's parameters.
ROOM_DEFAULT = {"sim_worms": 6, "sim_duration_s": 960.0, "sim_dt": 0.6, "sim_seed": 0}
LOW_DIMENSIONAL = 0.39   # PCs 1-3 share: the lowest of the range real Flavell-lab worms fall in (statistics.TARGETS)
SEPARATED = 0.8          # held-out balanced accuracy of forward vs reversal from PCs 1-3 (chance 0.5)
MAX_PCS = 8              # PCs drawn in the variance figure
STATE_SPACE_EVERY = 2    # the state-space figure draws every other sample (1.2 s apart)
VELOCITY_SHARE = 0.5     # a neuron "encodes velocity" when the command latent is >= half its latent drive
RECOVERS = 0.75          # AUC from which |r with velocity| recovers the velocity neurons
SIMULATED = ({"source": "simulated"},)   # every run is on the simulated default, seed = simulation seed
SIZES = {   # each worm's whole run is measured (480 s is the lab's standard stretch)
    "smoke": {"seeds": 1, "n_worms": 1, "duration_s": 480.0},
    "quick": {"seeds": 3, "n_worms": 3, "duration_s": 480.0},
    "full": {"seeds": 10, "n_worms": 10, "duration_s": 960.0},
}
WEAK = 0.65              # AUC of |r| for partner vs other pairs up to which anatomy predicts "weakly"


def _standard_worms(seed, size, recording=None):
    """(recording, z-scored traces, reversal 0/1 or empty, truth or None) of each worm measured: the
    given ``recording`` over its whole length, else each simulated worm of one seed."""
    from engines.worms.simulate import simulate_collection
    from engines.worms.statistics import standard_stretch
    if recording is not None:
        traces, reversal = standard_stretch(recording, stretch_s=float("inf"))
        yield recording, traces, reversal, None
        return
    collection, truth = simulate_collection(n_worms=size["n_worms"], duration_s=size["duration_s"],
                                            dt=ROOM_DEFAULT["sim_dt"], seed=seed)
    for recording in collection.recordings:
        traces, reversal = standard_stretch(recording, stretch_s=size["duration_s"])
        yield recording, traces, reversal, truth


def low_dimensional_brain(condition, seed, size, recording=None):
    """Cumulative variance share of PCs 1..MAX_PCS of each worm's z-scored traces and of their time
    derivatives, and how well PCs 1-3 tell forward from reversal (held-out nearest centroid; NaN
    without behaviour labels); then the first worm's trajectory on the derivatives' PCs 1 and 2 with
    its behaviour. The simulated default's worms, or the given ``recording``."""
    import numpy as np

    from engines.worms.analysis import held_out_separation, pca_scores, smoothed_derivative
    for index, (worm, traces, reversal, _) in enumerate(_standard_worms(seed, size, recording)):
        labels = "forward/reversal" if reversal.size else "none"
        for signal, values in (("traces", traces), ("derivatives", smoothed_derivative(traces, ROOM_DEFAULT["sim_dt"]))):
            scores, share = pca_scores(values, MAX_PCS)
            separation = held_out_separation(scores[:, :3], reversal >= 0.5) if reversal.size else float("nan")
            for k, value in enumerate(share, start=1):
                yield {"worm": worm.name, "signal": signal, "PCs": k, "variance explained": float(value),
                       "state separation": separation, "behaviour labels": labels}
        if seed == 0 and index == 0:   # one worm's state space (Kato et al.'s Fig. 2), every other sample
            states = (np.where(reversal >= 0.5, "reversal", "forward") if reversal.size
                      else np.full(len(scores), "not labelled"))
            for t in range(0, len(scores), STATE_SPACE_EVERY):   # scores: the derivatives' (the last signal)
                yield {"worm": worm.name, "signal": "derivatives", "PC 1": float(scores[t, 0]),
                       "PC 2": float(scores[t, 1]), "behaviour": str(states[t])}


def few_modes_carry_behaviour(table):
    """Reproduced when the traces' PCs 1-3 carry a mean share >= LOW_DIMENSIONAL of the variance and
    forward and reversal separate in the derivatives' PCs 1-3 (mean held-out balanced accuracy
    >= SEPARATED), as in Kato et al.'s state space. When no worm has forward and reversal labelled in
    both halves, the separation is untested: "partly tested" if the variance part holds."""
    import math
    table = table[table["PCs"].notna()]   # the variance rows (not the state space's)
    three = table[table["PCs"] == 3].groupby("signal")[["variance explained", "state separation"]].mean()
    share = float(three.loc["traces", "variance explained"])
    separation = float(three.loc["derivatives", "state separation"])
    low, apart = share >= LOW_DIMENSIONAL, separation >= SEPARATED
    observed = "states" if low and apart else ("modes-only" if low else "high-dimensional")
    untested = ""
    if math.isnan(separation):
        unlabelled = "behaviour labels" in table and (table["behaviour labels"] == "none").all()
        reason = ("it has no forward/reversal labels" if unlabelled
                  else "forward and reversal do not both occur in each half of it")
        separated = f"not testable: {reason}, so the colouring by behaviour is unavailable"
        observed, untested = ("", "whether forward and reversal sit apart in PCs 1-3") if low else (observed, "")
    else:
        separated = (f"{separation:.2f} with derivatives, {float(three.loc['traces', 'state separation']):.2f} "
                     f"with traces (bar {SEPARATED}, chance 0.5)")
    summary = (f"PCs 1-3 carry {share:.2f} of the traces' variance ({float(three.loc['derivatives', 'variance explained']):.2f} "
               f"of the derivatives'; bar {LOW_DIMENSIONAL}); forward vs reversal from PCs 1-3, held out: {separated}")
    return {"reproduced": observed == "states", "observed": observed, "summary": summary, "untested": untested,
            "numbers": {"pc1_3_traces": share, "pc1_3_derivatives": float(three.loc["derivatives", "variance explained"]),
                        "separation_derivatives": separation,
                        "separation_traces": float(three.loc["traces", "state separation"])}}


def recording_on_show(room):
    """The room's real recording on show, raw (the experiment preprocesses it the standard way, over
    its whole length); None for the simulated default, whose worms the experiment simulates itself."""
    recording = getattr(room, "raw_recording", None)
    if recording is None or recording.simulated:
        return None
    seconds = float(recording.time[-1] - recording.time[0])
    return RoomData(condition={"source": "recording on show"}, inputs={"recording": recording},
                    description=f"the recording on show, {recording.name} ({recording.n_neurons} traces, "
                                f"{seconds:.0f} s), resampled to 0.6 s and z-scored")


LOW_DIMENSIONAL_BRAIN = Experiment(
    id="low-dimensional-brain",
    room="worms",
    title="A low-dimensional brain",
    question="A worm's head holds about 150 recorded neurons. How many directions of activity does it take "
             "to describe most of what they do, and do those few directions tell what the worm is doing? "
             "(Run on the recording on show when you have opened a real one, else on simulated worms.)",
    predictions=(
        Prediction("states", "Three directions carry most of it, and forward and reversal sit apart in them"),
        Prediction("modes-only", "A few directions carry most of it, but they do not tell the behaviours apart"),
        Prediction("high-dimensional", "Many directions: each neuron does its own thing"),
    ),
    settings=dict(ROOM_DEFAULT),
    conditions=SIMULATED,
    sizes=SIZES,
    measure=low_dimensional_brain,
    judge=few_modes_carry_behaviour,
    room_data=recording_on_show,
    figure=Figure("line", x="PCs", y="variance explained", group="signal", x_label="principal components kept",
                  y_label="share of the variance (cumulative)"),
    more_figures=(Figure("scatter", x="PC 1", y="PC 2", group="behaviour",
                         x_label="PC 1 of the derivatives (first worm)", y_label="PC 2 of the derivatives"),),
    claim=Claim("Brain-wide activity is dominated by a few collective modes: the first three principal "
                "components carry most of the variance, and the worm's motor states (forward, reversal, turn) "
                "occupy separate parts of that low-dimensional space.",
                source="Kato et al., Cell 2015 (Fig. 2: PCA of the time derivatives of the traces); the bars are "
                       "this lab's (0.39: the lowest PCs 1-3 share of real Flavell-lab worms, "
                       "engines/worms/statistics.py TARGETS)",
                tolerance=f"the mean share of the z-scored traces' variance in PCs 1-3 is >= {LOW_DIMENSIONAL}, and "
                          f"a nearest-centroid classifier on the derivatives' PCs 1-3, fitted on the first half of each "
                          f"worm and tested on the second, tells forward from reversal with mean balanced accuracy "
                          f">= {SEPARATED}; on a recording without forward/reversal labels (or without both states "
                          f"in each half) only the first part is tested, and the verdict says \"partly tested\""),
    explanation=(
        "Principal components are the directions in which the population varies most; the figure adds them up "
        "one by one. In the simulation a few latent drives (the forward/reverse command, arousal, head swings, "
        "feeding, the stimuli) reach most neurons, so a few components carry much of the variance, as Kato et al. "
        "found in real worms. Whether the behaviours separate depends on what is analysed: calcium rises and "
        "decays over seconds, so a 3 s reversal barely moves the traces themselves and their components mix the "
        "states, while the time derivatives (smoothed over 3 s here) jump at every transition. This is why Kato "
        "et al. drew the state space from derivatives; the lower figure draws the first worm's path in it "
        "(PCs 1 and 2 of the derivatives, a dot every 1.2 s, coloured by behaviour). The classifier is fitted on each worm's first half and "
        "tested on its second, so slow drift cannot flatter it. The simulation has no turn state (omega/delta "
        "turns are not modelled), so only forward and reversal are tested. Opened in the room, a real recording "
        "(for example a Flavell-lab one) is measured instead, over its whole length: the same numbers on real "
        "neurons, and the behaviour part only when the recording labels reversals."),
)


def velocity_encoding(condition, seed, size):
    """Every recorded neuron's Pearson r with the worm's velocity, its atlas position (x, y, z), and
    the simulation's truth: its loading on the forward/reverse command latent and that latent's
    share of its latent drive."""
    import numpy as np

    from engines.worms import positions_on_axis
    from engines.worms.analysis import velocity_correlations
    for recording, traces, _, truth in _standard_worms(seed, size):
        velocity = np.asarray(recording.behaviour["velocity"][:len(traces)], float)
        r = velocity_correlations(traces, velocity)
        loadings = truth.encoding.loc[recording.labels].drop(columns="timescale_s")
        share = loadings["command"].abs() / loadings.abs().sum(axis=1).where(lambda s: s > 0, 1.0)
        where = positions_on_axis(recording.neuron_axis).reindex(recording.labels)
        for name, value, loading, command, (x, y, z) in zip(recording.labels, r, loadings["command"], share,
                                                             where[["x", "y", "z"]].to_numpy(float)):
            yield {"worm": recording.name, "neuron": name, "r with velocity": float(value),
                   "command loading": float(loading), "command share": float(command),
                   "truth": "velocity neuron" if command >= VELOCITY_SHARE else "other",
                   "x": float(x), "y": float(y), "z": float(z)}


def correlation_finds_velocity_neurons(table):
    """Reproduced when |r with velocity| ranks the simulation's velocity neurons above the others with
    a mean AUC (over worms and seeds) >= RECOVERS."""
    from engines.worms.analysis import auc
    aucs = [auc(part["r with velocity"].abs(), part["truth"] == "velocity neuron")
            for _, part in table.groupby(["seed", "worm"])]
    mean = float(sum(aucs) / len(aucs))
    share = float((table["truth"] == "velocity neuron").mean())
    observed = "recovered" if mean >= RECOVERS else ("partly" if mean >= 0.6 else "no")
    summary = (f"|r with velocity| tells the velocity neurons ({share:.0%} of the recorded ones) from the rest "
               f"with mean AUC {mean:.2f} over {len(aucs)} worms (bar {RECOVERS}, chance 0.5)")
    return {"reproduced": observed == "recovered", "observed": observed, "summary": summary,
            "numbers": {"mean_auc": mean, "velocity_neuron_share": share, "worms": len(aucs)}}


VELOCITY_NEURONS = Experiment(
    id="velocity-neurons",
    room="worms",
    title="Which neurons encode velocity",
    question="Correlate every neuron's trace with how fast the worm crawls (backwards is negative). Does that "
             "simple number find the neurons that the simulation really drives with the motor command?",
    predictions=(
        Prediction("recovered", "Yes: the neurons that correlate most are the velocity neurons"),
        Prediction("partly", "Only partly: slow or mixed neurons blur it"),
        Prediction("no", "No better than chance"),
    ),
    # the room's 3D anatomy colours the worm on show by r with velocity too (its "colour by correlation")
    settings={**ROOM_DEFAULT, "colour_by": "correlation", "reference": "velocity"},
    conditions=SIMULATED,
    sizes=SIZES,
    measure=velocity_encoding,
    judge=correlation_finds_velocity_neurons,
    figure=Figure("anatomy", x="neuron", y="r with velocity", group="truth", x_label="neuron",
                  y_label="Pearson r with velocity (mean over worms)"),
    claim=Claim("Many neurons across the brain encode the worm's velocity, and their encoding can be read from "
                "their activity.",
                source="Atanas et al., Cell 2023 (velocity-encoding neurons); the ground-truth check and the AUC "
                       "bar (0.75) are this lab's",
                tolerance=f"averaged over worms and seeds, |Pearson r with velocity| tells the neurons whose latent drive "
                          f"is at least {VELOCITY_SHARE:.0%} the forward/reverse command from the others with "
                          f"ROC AUC >= {RECOVERS}"),
    explanation=(
        "The simulation drives each neuron with a weighted mix of latents; the forward/reverse command is one of "
        "them, and the worm's velocity is read out from the B- minus A-type motor neurons, so it follows the "
        "command. A neuron whose drive is mostly the command correlates strongly with velocity (negatively for "
        "reversal neurons such as AVA, positively for forward ones such as AVB). Correlation misses neurons that integrate the command over a long timescale (the "
        "simulation gives each neuron its own, up to minutes) and credits neurons that only share activity with "
        "velocity neurons through synapses; Atanas et al. fitted timescales per neuron for that reason. The AUC "
        "asks how well |r| alone ranks the true velocity neurons first. The figure draws each neuron's r (its mean "
        "over the worms) at its place in the worm (side and top views of the atlas positions; triangles: the "
        "simulation's velocity neurons): reversal neurons (AVA, AIB, RIM) are blue, forward ones (RIB, and the "
        "B-type motor neurons of the ventral cord) red, and blue and red sit side by side in the same head "
        "ganglia: as Atanas et al. found, velocity is encoded by neurons spread across the brain, not in one place. Run also sets the room's 3D "
        "anatomy to colour the worm on show by r with velocity: turn it there to see the same map in 3D."),
)


def partner_correlations(condition, seed, size):
    """Mean |r| of synaptic partner pairs (Cook 2019, chemical either way or gap junction) and of all
    other pairs of recorded neurons in each worm, with a label-permutation null of the difference."""
    from engines.worms import anatomical_connectome
    from engines.worms.analysis import partner_correlation, partner_mask
    from engines.worms.neurons import CANONICAL_NEURONS
    anatomy = anatomical_connectome()
    for recording, traces, _, _ in _standard_worms(seed, size):
        partners = partner_mask(recording.labels, anatomy.chemical, anatomy.gap, CANONICAL_NEURONS)
        result = partner_correlation(traces, partners, size["n_permutations"], seed)
        for pairs in ("partners", "non-partners"):
            yield {"worm": recording.name, "pairs": pairs, "mean |r|": result[pairs],
                   "difference": result["difference"], "null 95%": result["null_95"], "AUC": result["auc"]}


def anatomy_predicts_weakly(table):
    """Reproduced when in every worm the partners' excess mean |r| lies above the permutation null's
    95th percentile, and the mean AUC of |r| telling partner pairs from the others is <= WEAK."""
    worms = table.drop_duplicates(["seed", "worm"])
    significant = bool((worms["difference"] > worms["null 95%"]).all())
    mean_auc, excess = float(worms["AUC"].mean()), float(worms["difference"].mean())
    means = table.groupby("pairs")["mean |r|"].mean()
    if not significant:
        observed = "none"
    else:
        observed = "weak" if mean_auc <= WEAK else "strong"
    summary = (f"mean |r| {means['partners']:.3f} for synaptic partners, {means['non-partners']:.3f} for other pairs "
               f"(excess {excess:+.3f}, above the null's 95th percentile in "
               f"{int((worms['difference'] > worms['null 95%']).sum())} of {len(worms)} worms); AUC of |r| for "
               f"partner pairs {mean_auc:.2f} (weak up to {WEAK})")
    return {"reproduced": observed == "weak", "observed": observed, "summary": summary,
            "numbers": {"partners_mean_abs_r": float(means["partners"]),
                        "non_partners_mean_abs_r": float(means["non-partners"]), "excess": excess,
                        "mean_null_95": float(worms["null 95%"].mean()), "mean_auc": mean_auc,
                        "all_significant": significant}}


ANATOMY_WEAKLY = Experiment(
    id="anatomy-weakly",
    room="worms",
    title="Anatomy predicts function only weakly",
    question="Two neurons joined by synapses: do their activities move together more than two unconnected "
             "neurons do, and how well does the wiring diagram tell which pairs will correlate?",
    predictions=(
        Prediction("weak", "Partners correlate a little more, but the wiring predicts correlation poorly"),
        Prediction("strong", "Partners correlate much more: the wiring predicts correlation well"),
        Prediction("none", "No difference beyond chance"),
    ),
    settings=dict(ROOM_DEFAULT),
    conditions=SIMULATED,
    sizes={name: {**knobs, "n_permutations": permutations}
           for (name, knobs), permutations in zip(SIZES.items(), (200, 500, 2000))},
    measure=partner_correlations,
    judge=anatomy_predicts_weakly,
    figure=Figure("bar", x="pairs", y="mean |r|", x_label="pairs of recorded neurons",
                  y_label="mean |Pearson r| of their traces"),
    claim=Claim("The anatomical connectome is a poor predictor of how activity relates between neurons: "
                "synaptic partners are functionally related more often than chance, but far from reliably.",
                source="Randi et al., Nature 2023 (anatomy vs measured signal propagation); the permutation "
                       f"null and the AUC bar ({WEAK}) are this lab's",
                tolerance="in every worm the partners' mean |r| minus the other pairs' exceeds the 95th percentile "
                          f"of that difference with partner labels shuffled among the pairs, and the mean AUC of |r| "
                          f"telling partner pairs from the others is <= {WEAK}"),
    explanation=(
        "The simulated rates are coupled through the Cook 2019 connectome (rows normalised), so partners share "
        "some activity, and part of each neuron's encoding is inherited from its partners. But most of what a "
        "neuron does comes from the shared latent drives, which reach connected and unconnected neurons alike, "
        "and from its own slow fluctuations; so partner pairs correlate only slightly more, and knowing that two "
        "neurons are wired together says little about whether they correlate (the AUC stays near 0.5). The null "
        "shuffles which pairs count as partners, keeping their number: it asks whether the excess could be a "
        "chance pick of pairs. Randi et al. measured signal propagation directly by optogenetic stimulation and "
        "found it often departs from the wiring (extrasynaptic signalling); correlation is a weaker, indirect "
        "view of the same question."),
)

EXPERIMENTS = (LOW_DIMENSIONAL_BRAIN, VELOCITY_NEURONS, ANATOMY_WEAKLY)
