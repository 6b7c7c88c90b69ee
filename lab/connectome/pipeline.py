"""The room's long work as generators of steps, which the room's ``BackgroundTask`` runs.

Each ``yield n`` reports n steps done, so pause and stop take effect between chunks. A stage
reads the settings snapshot taken when the user pressed the button (never the live parameters,
which may change while it runs) and publishes results through the room's ``publish``, together
with ``produced_by``: the settings each result came from, which the export records.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator

import pandas as pd

from engines.connectome.communities import component_graph, detect_communities
from engines.connectome.enrichment import benjamini_hochberg, connectivity_layers, enrichment
from engines.connectome.ntf import NTFRunner
from engines.connectome.sweep import SweepRunner
from engines.connectome.tensor import AffinityTensor, build_tensor
from engines.errors import InvalidInputError
from lab import cluster
from lab.connectome import aligned
from lab.connectome.checks import check_recordings
from lab.connectome.plan import SIMULATION_CHUNK, Plan, tensor_checks
from lab.recordings import open_path

NTF_CHUNK = 5             # HALS sweeps per step
PUBLISH_HZ = 4.0          # NTF snapshots published per second at most, while it fits
ENRICHMENT_COLUMNS = ["component", "community", "layer", "size", "observed", "null_mean", "z", "p_value", "q_value"]

# Every result, empty: what a new build starts from.
NO_RESULTS = dict(recordings_label="", tensor=None, result=None, communities={}, enrichment_table=None,
                  enrichment_note="", sweep_summary=None, sweep_fits=None, recommended_rank=None,
                  recommendation="", produced_by={})
NO_FIT = dict(result=None, communities={}, enrichment_table=None, enrichment_note="")

# The room's settings by what they decide (the room declares its parameters in these groups).
GROUPS = {
    "recordings": ("source", "n_worms", "duration_s", "simulation_seed", "path"),
    "tensor": ("affinity", "kernel_lag_s", "window_s", "step_s", "min_worm_fraction", "factorise_after_build"),
    "factorisation": ("rank", "max_iter", "tol", "ntf_seed"),
    "communities": ("community_method", "resolution", "max_blocks", "n_shuffles"),
    "rank sweep": ("sweep_from", "sweep_to", "n_restarts", "executor"),
}


def group(settings: dict, name: str) -> dict:
    return {key: settings[key] for key in GROUPS[name]}


def build_steps(plan: Plan, settings: dict) -> int:
    fit = factorise_steps(settings) if settings["factorise_after_build"] else 0
    return plan.read_steps + plan.n_worms + fit


def factorise_steps(settings: dict) -> int:
    """Planned HALS sweeps, then one step per component for communities and one for enrichment."""
    return settings["max_iter"] + 2 * settings["rank"]


class Pipeline:
    """Recordings -> tensor -> NTF -> communities -> enrichment, and the rank sweep."""

    def __init__(self, publish: Callable[..., None]):
        self._publish = publish
        self._layers = None           # the anatomy, read once
        self._last_publish = 0.0
        self.recordings: aligned.Recordings | None = None   # what the current tensor came from
        self.produced_by: dict = {}

    def _record(self, **groups) -> None:
        self.produced_by = {**self.produced_by, **groups}

    # ---- recordings and tensor -----------------------------------------------------------
    def build(self, plan: Plan, settings: dict, cache: dict) -> Iterator[int]:
        self.recordings, self.produced_by = None, {}
        self._publish(**NO_RESULTS, stage="reading the recordings")   # nothing of the last build stays
        recordings = plan.recordings
        if plan.simulator is not None:
            recordings = yield from self._simulate(plan.simulator)
            cache[plan.key] = recordings
        elif plan.path is not None:
            self._publish(stage=f"reading {plan.path}")
            recordings = aligned.from_collection(open_path(plan.path, lazy=False), plan.path.rstrip("/"))
            check_recordings(recordings.traces, recordings.neuron_names, recordings.dts, **tensor_checks(settings))
            cache[plan.key] = recordings
            yield 1
        self._publish(stage=f"affinities of {recordings.n_worms} worms")
        checks = tensor_checks(settings)
        tensor = build_tensor(recordings.traces, recordings.neuron_names, recordings.dts, settings["window_s"],
                              settings["step_s"], settings["affinity"], rank=checks["rank"],
                              kernel_lag_s=checks["kernel_lag_s"],
                              worm_names=recordings.worm_names, min_worm_fraction=settings["min_worm_fraction"],
                              progress=lambda _fraction, message: self._publish(stage=message))
        self.recordings = recordings
        self._record(recordings={**group(settings, "recordings"), "label": recordings.label,
                                 "left_out": recordings.note},
                     tensor=group(settings, "tensor"))
        n_windows, n_worms, n_pairs = tensor.shape
        self._publish(tensor=tensor, recordings_label=recordings.label, produced_by=self.produced_by,
                      stage=f"tensor built: {n_windows} windows × {n_worms} worms × {n_pairs:,} pairs")
        yield plan.n_worms
        if settings["factorise_after_build"]:
            yield from self.factorise(tensor, settings)

    def _simulate(self, simulator) -> Iterator[int]:
        while simulator.samples_done < simulator.n_time:
            simulator.advance(SIMULATION_CHUNK)
            self._publish(stage=f"simulating: {simulator.samples_done}/{simulator.n_time} samples")
            yield 1
        return aligned.from_simulator(simulator)

    # ---- factorisation, communities, enrichment ------------------------------------------
    def factorise(self, tensor: AffinityTensor, settings: dict) -> Iterator[int]:
        rank, max_iter = settings["rank"], settings["max_iter"]
        self._record(factorisation=group(settings, "factorisation"), communities=group(settings, "communities"))
        self._publish(**NO_FIT, produced_by=self.produced_by)
        runner = NTFRunner(tensor.values, tensor.mask, rank, settings["ntf_seed"], settings["tol"], max_iter)
        while not runner.done:
            before = runner.n_iter
            runner.step(NTF_CHUNK)
            self._publish_fit(runner, final=False)
            yield runner.n_iter - before
        result = self._publish_fit(runner, final=True)
        yield max_iter - runner.n_iter                # converged early: the rest of the planned sweeps
        communities = {}
        for k in range(rank):
            self._publish(stage=f"communities of component {k + 1}/{rank} ({settings['community_method']})")
            communities[k] = detect_communities(component_graph(tensor, result.factors[2][:, k]),
                                                settings["community_method"], seed=settings["ntf_seed"],
                                                **community_options(settings))
            yield 1
        self._publish(communities=communities)
        yield from self._enrichment(tensor, communities, settings)

    def _publish_fit(self, runner: NTFRunner, final: bool):
        now = time.perf_counter()
        if not final and now - self._last_publish < 1.0 / PUBLISH_HZ:
            return None
        self._last_publish = now
        status = "converged" if runner.converged else ("done" if runner.done else "fitting")
        snapshot = runner.snapshot()
        self._publish(result=snapshot, stage=f"NTF rank {runner.rank}: sweep {runner.n_iter}, "
                                             f"relative error {runner.errors[-1]:.4f} ({status})")
        return snapshot

    def _enrichment(self, tensor: AffinityTensor, communities: dict, settings: dict) -> Iterator[int]:
        tables, note = [], ""
        for k, labels in communities.items():
            self._publish(stage=f"enrichment of component {k + 1}/{len(communities)}")
            try:
                table = enrichment(dict(zip(tensor.neurons, labels.tolist())), self.connectivity(),
                                   n_shuffles=settings["n_shuffles"], min_size=3, seed=settings["ntf_seed"])
                tables.append(table.assign(component=k))
            except InvalidInputError as err:   # e.g. merged classes: no anatomy to compare with
                note = f"No enrichment: {err}"
            if k == len(communities) - 1:
                self._publish_enrichment(tables, note)
            yield 1

    def _publish_enrichment(self, tables: list, note: str) -> None:
        table = pd.concat(tables, ignore_index=True) if tables else None
        if table is not None and len(table):
            table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy())  # across all components
            table = table[ENRICHMENT_COLUMNS]
        n_rows = 0 if table is None else len(table)
        self._publish(enrichment_table=table, enrichment_note=note,
                      stage=f"done: {len(tables) or 'no'} components with communities, {n_rows} enrichment scores")

    def connectivity(self):
        if self._layers is None:
            self._layers = connectivity_layers()
        return self._layers

    # ---- the rank sweep ------------------------------------------------------------------
    def sweep(self, tensor: AffinityTensor, settings: dict, ranks: list[int]) -> Iterator[int]:
        """Every rank x restart, here or (executor "dask") on the lab's Dask cluster: the operator's
        scheduler or this server's shared local cluster (``lab.cluster``), whose client is fetched
        here, in the task's thread, never on the event loop."""
        self._publish(sweep_summary=None, sweep_fits=None, recommended_rank=None, recommendation="",
                      stage="rank sweep: starting")
        client = cluster.client() if settings["executor"] == "dask" else None   # shared: never closed here
        runner = SweepRunner(tensor.values, tensor.mask, ranks, settings["n_restarts"], seed=settings["ntf_seed"],
                             tol=settings["tol"], max_iter=settings["max_iter"], client=client)
        try:
            while not runner.done:
                fit = runner.step()
                self._publish(stage=f"rank sweep: rank {fit['rank']}, restart {fit['restart'] + 1} "
                                    f"({len(runner.fits)}/{len(runner.jobs)})")
                if runner.done:
                    self._publish_sweep(runner, settings)
                yield 1
        finally:   # stopped or failed: the cluster drops this sweep's queued fits
            runner.cancel()

    def _publish_sweep(self, runner: SweepRunner, settings: dict) -> None:
        sweep = runner.result()
        self._record(**{"rank sweep": {**group(settings, "rank sweep"), "max_iter": settings["max_iter"],
                                       "tol": settings["tol"], "ntf_seed": settings["ntf_seed"]}})
        self._publish(sweep_fits=sweep.fits, sweep_summary=sweep.summary, produced_by=self.produced_by,
                      recommended_rank=int(sweep.recommended_rank), recommendation=sweep.reason,
                      stage=f"rank sweep done: rank {sweep.recommended_rank} recommended")


def community_options(settings: dict) -> dict:
    if settings["community_method"] == "leiden":
        return {"resolution": settings["resolution"]}
    return {"max_blocks": settings["max_blocks"]}
