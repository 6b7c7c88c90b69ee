"""The dynamic-connectome room's model: recordings -> affinity tensor -> NTF -> communities.

Actions (``build``, ``factorise``, ``sweep``) check their settings synchronously, raising the
engine's typed errors before any long work, then run as one ``BackgroundTask`` whose step
function is a generator of pipeline stages (each ``yield`` is a chunk of steps, so pause and
stop take effect between chunks). Results are read-only parameters the views watch; the NTF
snapshot is published at most ``PUBLISH_HZ`` times a second while it fits.
"""
from __future__ import annotations

import io
import math
import os
import tempfile
import threading
import time
import zipfile
from typing import Iterator

import numpy as np
import pandas as pd
import param

from engines.connectome.affinity import AFFINITIES
from engines.connectome.communities import (METHODS, component_graph, detect_communities,
                                            order_by_community)
from engines.connectome.enrichment import connectivity_layers, enrichment
from engines.connectome.export import factors_csv, factors_npz, partitions_csv
from engines.connectome.ntf import NTFResult, NTFRunner
from engines.connectome.rank_selection import fit_and_score, recommend_rank, summarise
from engines.connectome.sweep import run_sweep
from engines.connectome.tensor import AffinityTensor, build_tensor
from engines.connectome.validation import check_rank
from engines.errors import EngineError, InvalidInputError
from lab.connectome import sources
from lab.connectome.checks import check_plan, check_recordings
from lab.tasks import BackgroundTask

SOURCES = ["simulated", "file or folder", "upload"]
SIMULATION_CHUNK = 50     # samples simulated per step
NTF_CHUNK = 5             # HALS sweeps per step
PUBLISH_HZ = 4.0


class ConnectomeRoom(param.Parameterized):
    # ---- recordings --------------------------------------------------------------------------
    source = param.Selector(default="simulated", objects=SOURCES,
                            doc="Simulated worms with known modules, recordings on disk, or an uploaded file.")
    n_worms = param.Integer(default=4, bounds=(1, 20), doc="How many worms to simulate.")
    duration_s = param.Number(default=360.0, bounds=(60.0, 1200.0), step=60.0,
                              doc="Length of each simulated recording, seconds.")
    simulation_seed = param.Integer(default=0, bounds=(0, None), doc="Seed of the simulated worms.")
    path = param.String(default=str(sources.SHARED_RECORDINGS),
                        doc="A recording file (.h5, .nwb, .mat, .csv, .npz, ...) or a folder of Flavell-lab files.")
    # ---- affinity tensor ---------------------------------------------------------------------
    affinity = param.Selector(default="correlation", objects=list(AFFINITIES),
                              doc="correlation: rectified Pearson r (linear); kernel: self-tuning Gaussian "
                                  "kernel of derivatives; mutual_information: binned MI (needs long windows).")
    window_s = param.Number(default=20.0, bounds=(2.0, 600.0), softbounds=(5.0, 120.0), step=1.0, doc="Sliding window length, seconds.")
    step_s = param.Number(default=10.0, bounds=(0.5, 600.0), softbounds=(1.0, 60.0), step=1.0, doc="Step between windows, seconds.")
    min_worm_fraction = param.Number(default=0.75, bounds=(0.0, 1.0), step=0.05,
                                     doc="Keep neurons recorded in at least this fraction of the worms.")
    # ---- factorisation -----------------------------------------------------------------------
    rank = param.Integer(default=5, bounds=(1, 30), softbounds=(1, 15), doc="Number of NTF components.")
    max_iter = param.Integer(default=100, bounds=(5, 2000), softbounds=(10, 500), doc="Most HALS sweeps per fit.")
    tol = param.Number(default=1e-4, bounds=(0.0, 0.1), doc="Stop when the error changes less than this.")
    ntf_seed = param.Integer(default=0, bounds=(0, None), doc="Seed of the NTF initialisation.")
    factorise_after_build = param.Boolean(default=True,
                                          doc="Factorise and find communities as soon as the tensor is built.")
    sweep_ranks = param.Range(default=(2, 5), bounds=(1, 30), softbounds=(1, 15), doc="Ranks tried by the rank sweep.")
    n_restarts = param.Integer(default=2, bounds=(1, 10), doc="Restarts per rank in the sweep.")
    executor = param.Selector(default="serial", objects=["serial", "dask"],
                              doc="serial: in this session's thread; dask: a local dask cluster of processes.")
    # ---- communities and enrichment ----------------------------------------------------------
    community_method = param.Selector(default="leiden", objects=list(METHODS),
                                      doc="leiden: modularity (leidenalg); sbm: weighted stochastic block model.")
    resolution = param.Number(default=1.0, bounds=(0.05, 5.0), step=0.05,
                              doc="Leiden resolution: higher gives more, smaller communities.")
    max_blocks = param.Integer(default=6, bounds=(2, 12), doc="Most blocks the SBM may use.")
    n_shuffles = param.Integer(default=200, bounds=(20, 5000), softbounds=(50, 1000), doc="Label shuffles of the enrichment null.")
    # ---- results (read-only) -----------------------------------------------------------------
    stage = param.String(default="", constant=True, doc="What the pipeline is doing.")
    recordings_label = param.String(default="", constant=True, doc="The recordings the tensor was built from.")
    tensor = param.ClassSelector(class_=AffinityTensor, default=None, allow_None=True, constant=True)
    result = param.ClassSelector(class_=NTFResult, default=None, allow_None=True, constant=True,
                                 doc="The NTF fit (a snapshot while it runs).")
    communities = param.Dict(default={}, constant=True, doc="Component -> community label of each neuron.")
    enrichment_table = param.DataFrame(default=None, allow_None=True, constant=True)
    enrichment_note = param.String(default="", constant=True)
    sweep_summary = param.DataFrame(default=None, allow_None=True, constant=True)
    sweep_fits = param.DataFrame(default=None, allow_None=True, constant=True)
    recommended_rank = param.Integer(default=None, allow_None=True, constant=True)
    recommendation = param.String(default="", constant=True)

    def __init__(self, **params):
        super().__init__(**params)
        self.task = BackgroundTask(name="connectome")
        self._cancel = threading.Event()
        self._recordings: sources.Recordings | None = None   # what the tensor was built from
        self._cache: dict = {}                                 # source key -> Recordings
        self._uploaded: sources.Recordings | None = None
        self._layers = None
        self._last_publish = 0.0

    # ---- actions -----------------------------------------------------------------------------
    def build(self) -> None:
        """Read or simulate the recordings and build the tensor (then factorise, if asked)."""
        plan = self._plan_recordings()
        rank = self.rank if self.factorise_after_build else None
        steps = plan["steps"] + plan["n_worms"]
        if self.factorise_after_build:
            steps += self.max_iter + 2 * rank
        self._start(self._build_stages(plan), steps)

    def factorise(self) -> None:
        """NTF of the current tensor at ``rank``, then communities and enrichment."""
        tensor = self._require_tensor()
        check_rank(tensor.shape, self.rank)
        self._start(self._factorise_stages(tensor, self.rank), self.max_iter + 2 * self.rank)

    def sweep(self) -> None:
        """Fit every rank of ``sweep_ranks`` ``n_restarts`` times and recommend a rank."""
        tensor = self._require_tensor()
        ranks = self._ranks()
        for rank in ranks:
            check_rank(tensor.shape, rank)
        self._start(self._sweep_stages(tensor, ranks), len(ranks) * self.n_restarts)

    def pause(self) -> None:
        self.task.pause()

    def resume(self) -> None:
        self.task.resume()

    def stop(self) -> None:
        self._cancel.set()
        self.task.stop()

    def reset(self) -> None:
        """Stop any work and forget every result (the recordings cache is kept)."""
        self.stop()
        self._recordings = None
        self._publish(stage="", recordings_label="", tensor=None, result=None, communities={},
                      enrichment_table=None, enrichment_note="", sweep_summary=None, sweep_fits=None,
                      recommended_rank=None, recommendation="")

    def use_recommended_rank(self) -> None:
        if self.recommended_rank is None:
            raise InvalidInputError("Run the rank sweep first: there is no recommended rank yet.")
        self.rank = self.recommended_rank

    def load_upload(self, data: bytes, filename: str) -> None:
        """Read an uploaded recording file; on failure the previous upload is kept."""
        try:
            recordings = sources.load_upload(data, filename)
        except EngineError:
            raise
        except (OSError, ValueError, KeyError) as err:
            raise InvalidInputError(f"'{filename}' could not be read as recordings ({err}).") from err
        self._uploaded = recordings
        self.source = "upload"

    def load_collection(self, collection, label: str | None = None) -> None:
        """Use recordings already in memory (an ``engines.worms.Collection``) as the 'upload' source."""
        self._uploaded = sources.from_collection(collection, label or collection.name)
        self.source = "upload"

    @property
    def uploaded_label(self) -> str:
        return self._uploaded.label if self._uploaded is not None else ""

    # ---- what views read ---------------------------------------------------------------------
    def component_matrix(self, k: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Component ``k``'s neuron x neuron affinity ordered by community: (matrix, names, labels)."""
        tensor, result = self.tensor, self.result
        weights = component_graph(tensor, result.factors[2][:, k])
        labels = self.communities.get(k, np.zeros(len(tensor.neurons), dtype=int))
        order = order_by_community(labels, weights)
        return weights[np.ix_(order, order)], [tensor.neurons[i] for i in order], labels[order]

    def stimulus_epochs(self) -> pd.DataFrame:
        if self._recordings is None:
            return pd.DataFrame(columns=["start_s", "end_s", "label"])
        return self._recordings.stimulus_epochs()

    def reversal_fraction(self) -> np.ndarray:
        """Mean fraction of each window the worms spent reversing (NaN when not known)."""
        if self._recordings is None or self.tensor is None:
            return np.array([])
        return self._recordings.behaviour_fraction(self.tensor.window_start_s, self.tensor.window_s)

    def stimulus_coverage(self) -> pd.DataFrame:
        """Fraction of each window covered by each stimulus label (one column per label)."""
        tensor, epochs = self.tensor, self.stimulus_epochs()
        starts = tensor.window_start_s
        ends = starts + tensor.window_s
        out = {}
        for label, rows in epochs.groupby("label"):
            covered = sum(np.clip(np.minimum(ends, e) - np.maximum(starts, s), 0, None)
                          for s, e in zip(rows.start_s, rows.end_s))
            out[label] = covered / tensor.window_s
        return pd.DataFrame(out, index=pd.Index(starts, name="window_start_s"))

    def component_summary(self) -> pd.DataFrame:
        """Per component: weight, communities, and the stimulus its temporal profile follows best."""
        result, rows = self.result, []
        coverage = self.stimulus_coverage() if self.tensor is not None else pd.DataFrame()
        for k in range(result.rank):
            profile = result.factors[0][:, k]
            match, r = "", float("nan")
            for label in coverage.columns:
                value = _correlation(profile, coverage[label].to_numpy())
                if np.isfinite(value) and (not np.isfinite(r) or value > r):
                    match, r = label, value
            labels = self.communities.get(k)
            rows.append({"component": k, "weight": float(result.weights[k]),
                         "communities": int(len(np.unique(labels))) if labels is not None else 0,
                         "stimulus": match, "stimulus_r": r})
        return pd.DataFrame(rows)

    def community_graph(self, k: int, strongest: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Component ``k`` as a graph: nodes (neuron, community, x, y laid out by weight) and the
        ``strongest`` fraction of its edges (source, target, weight)."""
        import igraph as ig
        weights = component_graph(self.tensor, self.result.factors[2][:, k])
        labels = self.communities.get(k, np.zeros(len(weights), dtype=int))
        upper = np.triu(weights, k=1)
        cut = np.quantile(upper[upper > 0], 1 - strongest) if (upper > 0).any() else np.inf
        sources, targets = np.nonzero(upper >= cut)
        edges = pd.DataFrame({"source": sources, "target": targets, "weight": upper[sources, targets]})
        graph = ig.Graph(n=len(weights), edges=list(zip(sources.tolist(), targets.tolist())))
        start = np.random.default_rng(0).uniform(-1, 1, (len(weights), 2)).tolist()   # deterministic layout
        xy = np.asarray(graph.layout_fruchterman_reingold(weights=edges.weight.tolist() or None, seed=start).coords)
        nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "index": np.arange(len(weights)),
                              "neuron": list(self.tensor.neurons), "community": labels.astype(int)})
        return nodes, edges

    def neuron_positions(self) -> pd.DataFrame:
        """Anatomical x, y, z of the tensor's neurons (NaN where the atlas has none)."""
        from engines.worms import neuron_positions
        table = neuron_positions()
        return table.reindex(list(self.tensor.neurons))

    def export(self, folder: str) -> list[str]:
        """Factors (NPZ and CSV), partitions and enrichment (CSV) written into ``folder``."""
        tensor, result = self._require_tensor(), self.result
        if result is None:
            raise InvalidInputError("Factorise the tensor first: there are no factors to export.")
        os.makedirs(folder, exist_ok=True)
        npz = os.path.join(folder, "connectome_factors.npz")
        factors_npz(npz, tensor, result)
        paths = [npz] + factors_csv(os.path.join(folder, "connectome"), tensor, result)
        if self.communities:
            path = os.path.join(folder, "connectome_partitions.csv")
            partitions_csv(path, tensor.neurons, {f"component_{k}/{self.community_method}": labels
                                                  for k, labels in self.communities.items()})
            paths.append(path)
        if self.enrichment_table is not None and len(self.enrichment_table):
            path = os.path.join(folder, "connectome_enrichment.csv")
            _atomic_text(path, self.enrichment_table.to_csv(index=False))
            paths.append(path)
        return paths

    def export_zip(self) -> bytes:
        """Everything ``export`` writes, as the bytes of one zip archive."""
        buffer = io.BytesIO()
        with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in self.export(folder):
                archive.write(path, os.path.basename(path))
        return buffer.getvalue()

    # ---- planning (synchronous, before any long work) ----------------------------------------
    def _settings(self, rank: int | None) -> dict:
        return {"window_s": self.window_s, "step_s": self.step_s, "affinity": self.affinity,
                "rank": rank, "min_worm_fraction": self.min_worm_fraction}

    def _plan_recordings(self) -> dict:
        rank = self.rank if self.factorise_after_build else None
        key = self._source_key()
        cached = self._cache.get(key)
        if self.source == "upload":
            if self._uploaded is None:
                raise InvalidInputError("Upload a recording file first, or choose another source.")
            cached = self._uploaded
        if cached is not None:
            check_recordings(cached.traces, cached.neuron_names, cached.dts, **self._settings(rank))
            return {"recordings": cached, "steps": 0, "n_worms": cached.n_worms}
        if self.source == "simulated":
            simulator = sources.new_simulator(self.n_worms, self.duration_s, self.simulation_seed)
            check_plan(sources.simulated_presence(simulator), [simulator.n_time] * self.n_worms,
                       [simulator.dt] * self.n_worms, simulator_neurons(), **self._settings(rank))
            return {"simulator": simulator, "key": key, "n_worms": self.n_worms,
                    "steps": math.ceil(simulator.n_time / SIMULATION_CHUNK)}
        if not self.path or not os.path.exists(self.path):
            raise InvalidInputError(f"There is no file or folder at '{self.path}'.")
        return {"path": self.path, "key": key, "steps": 1, "n_worms": 1}

    def _source_key(self):
        if self.source == "simulated":
            return ("simulated", self.n_worms, float(self.duration_s), self.simulation_seed)
        return ("path", self.path) if self.source == "file or folder" else ("upload", id(self._uploaded))

    def _require_tensor(self) -> AffinityTensor:
        if self.tensor is None:
            raise InvalidInputError("Build the tensor first.")
        return self.tensor

    def _ranks(self) -> list[int]:
        low, high = (int(round(v)) for v in self.sweep_ranks)
        return list(range(max(low, 1), max(high, low) + 1))

    # ---- the background work -----------------------------------------------------------------
    def _start(self, stages: Iterator[int], total_steps: int) -> None:
        self.stop()
        self._cancel.clear()
        self.task.start(stages.__next__, total_steps=total_steps)

    def _build_stages(self, plan: dict) -> Iterator[int]:
        recordings = plan.get("recordings")
        if "simulator" in plan:
            recordings = yield from self._simulate(plan["simulator"])
            self._cache[plan["key"]] = recordings
        elif "path" in plan:
            self._publish(stage=f"reading {plan['path']}")
            recordings = sources.load_path(plan["path"])
            self._cache[plan["key"]] = recordings
            rank = self.rank if self.factorise_after_build else None
            check_recordings(recordings.traces, recordings.neuron_names, recordings.dts, **self._settings(rank))
            yield 1
        self._publish(stage=f"affinities of {recordings.n_worms} worms", tensor=None, result=None,
                      communities={}, enrichment_table=None, enrichment_note="", sweep_summary=None,
                      sweep_fits=None, recommended_rank=None, recommendation="")
        tensor = build_tensor(recordings.traces, recordings.neuron_names, recordings.dts, self.window_s,
                              self.step_s, self.affinity, rank=self.rank if self.factorise_after_build else None,
                              worm_names=recordings.worm_names, min_worm_fraction=self.min_worm_fraction,
                              progress=lambda _fraction, message: self._publish(stage=message))
        self._recordings = recordings
        n_windows, n_worms, n_pairs = tensor.shape
        self._publish(tensor=tensor, recordings_label=recordings.label,
                      stage=f"tensor built: {n_windows} windows x {n_worms} worms x {n_pairs:,} pairs")
        yield plan["n_worms"]                          # the planned count (1 for files read in the task)
        if self.factorise_after_build:
            yield from self._factorise_stages(tensor, self.rank)

    def _simulate(self, simulator) -> Iterator[int]:
        while simulator.samples_done < simulator.n_time:
            simulator.advance(SIMULATION_CHUNK)
            self._publish(stage=f"simulating: {simulator.samples_done}/{simulator.n_time} samples")
            yield 1
        return sources.from_simulator(simulator)

    def _factorise_stages(self, tensor: AffinityTensor, rank: int) -> Iterator[int]:
        self._publish(result=None, communities={}, enrichment_table=None, enrichment_note="")
        runner = NTFRunner(tensor.values, tensor.mask, rank, self.ntf_seed, self.tol, self.max_iter)
        while not runner.done:
            before = runner.n_iter
            runner.step(NTF_CHUNK)
            self._publish_fit(runner, final=False)
            yield runner.n_iter - before
        self._publish_fit(runner, final=True)
        yield self.max_iter - runner.n_iter           # converged early: the rest of the planned sweeps
        result = self.result
        communities = {}
        for k in range(rank):
            self._publish(stage=f"communities of component {k + 1}/{rank} ({self.community_method})")
            weights = component_graph(tensor, result.factors[2][:, k])
            communities[k] = detect_communities(weights, self.community_method, seed=self.ntf_seed,
                                                **self._community_options())
            yield 1
        self._publish(communities=communities)
        yield from self._enrichment_stages(tensor, communities)

    def _community_options(self) -> dict:
        if self.community_method == "leiden":
            return {"resolution": self.resolution}
        return {"max_blocks": self.max_blocks}

    def _enrichment_stages(self, tensor: AffinityTensor, communities: dict) -> Iterator[int]:
        tables, note = [], ""
        for k, labels in communities.items():
            self._publish(stage=f"enrichment of component {k + 1}/{len(communities)}")
            try:
                table = enrichment(dict(zip(tensor.neurons, labels.tolist())), self._connectivity(),
                                   n_shuffles=self.n_shuffles, min_size=3, seed=self.ntf_seed)
                tables.append(table.assign(component=k))
            except InvalidInputError as err:   # e.g. merged classes: no anatomy to compare with
                note = f"No enrichment: {err}"
            if k == len(communities) - 1:
                self._publish_enrichment(tables, note)
            yield 1

    def _publish_enrichment(self, tables: list, note: str) -> None:
        table = pd.concat(tables, ignore_index=True) if tables else None
        if table is not None and len(table):
            from engines.connectome.enrichment import benjamini_hochberg
            table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy())  # across all components
            table = table[["component", "community", "layer", "size", "observed", "null_mean",
                           "z", "p_value", "q_value"]]
        n_rows = 0 if table is None else len(table)
        self._publish(enrichment_table=table, enrichment_note=note,
                      stage=f"done: {len(tables) or 'no'} components with communities, {n_rows} enrichment scores")

    def _connectivity(self):
        if self._layers is None:
            self._layers = connectivity_layers()
        return self._layers

    def _sweep_stages(self, tensor: AffinityTensor, ranks: list[int]) -> Iterator[int]:
        jobs = [(rank, restart) for rank in ranks for restart in range(self.n_restarts)]
        options = {"seed": self.ntf_seed, "tol": self.tol, "max_iter": self.max_iter}
        if self.executor == "dask":
            self._publish(stage="rank sweep: starting a dask cluster")
            sweep = run_sweep(tensor.values, tensor.mask, ranks, self.n_restarts, executor="dask",
                              progress=lambda _f, message: self._publish(stage=f"rank sweep: {message}"),
                              should_stop=self._cancel.is_set, **options)
            self._publish_sweep(sweep.fits, sweep.summary, sweep.recommended_rank, sweep.reason)
            yield len(jobs)
            return
        fits = []
        for k, (rank, restart) in enumerate(jobs):
            self._publish(stage=f"rank sweep: rank {rank}, restart {restart + 1} ({k + 1}/{len(jobs)})")
            fits.append(fit_and_score(tensor.values, tensor.mask, rank, restart, **options))
            if k == len(jobs) - 1:
                summary = summarise(fits)
                rank_choice, reason = recommend_rank(summary)
                table = pd.DataFrame([{key: v for key, v in f.items() if key != "result"} for f in fits])
                self._publish_sweep(table, summary, rank_choice, reason)
            yield 1

    def _publish_sweep(self, fits: pd.DataFrame, summary: pd.DataFrame, rank: int, reason: str) -> None:
        self._publish(sweep_fits=fits, sweep_summary=summary, recommended_rank=int(rank),
                      recommendation=reason, stage=f"rank sweep done: rank {rank} recommended")

    def _publish_fit(self, runner: NTFRunner, final: bool) -> None:
        now = time.perf_counter()
        if not final and now - self._last_publish < 1.0 / PUBLISH_HZ:
            return
        self._last_publish = now
        status = "converged" if runner.converged else ("done" if runner.done else "fitting")
        self._publish(result=runner.snapshot(),
                      stage=f"NTF rank {runner.rank}: sweep {runner.n_iter}, error {runner.errors[-1]:.4f} ({status})")

    def _publish(self, **values) -> None:
        with param.edit_constant(self):
            self.param.update(**values)


def simulator_neurons() -> tuple[str, ...]:
    from engines.worms import CANONICAL_NEURONS
    return CANONICAL_NEURONS


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _atomic_text(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
