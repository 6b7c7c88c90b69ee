"""The worm room's state: which dataset and worm are on show, how traces are preprocessed and
ordered, which neurons are picked, and the time cursor. Headless (no panel/holoviews imports).

Long work (simulating the default dataset) runs in the room's one ``BackgroundTask``; the
finished collection is published through the read-only ``dataset_version`` counter that views
watch. Everything else is quick (a recording is ~150 x 1,600) and done on parameter change.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import param

from engines.errors import InvalidInputError
from engines.worms import (BilateralMerge, CausalMovingAverage, DeltaFOverF, Derivative,
                           GaussianSmooth, Pipeline, Recording, Resample, WormSimulator, ZScore,
                           anatomical_connectome, neuron_positions, search_neurons)
from engines.worms.neurons import CLASS_MEMBERS
from lab.tasks import BackgroundTask
from lab.worms import datasets
from lab.worms.ordering import ORDERS, order_by_clustering, order_by_connectome, order_by_name

SMOOTHING = ("none", "causal moving average", "gaussian")
NORMALISATION = ("none", "z-score", "dF/F")
PARTNER_KINDS = ("all", "chemical", "gap junction")
PREPROCESSING = ["resample_dt", "smoothing", "smoothing_window", "smoothing_sigma_s",
                 "derivative", "normalisation", "merge_bilateral"]
SIM_CHUNK = 80  # samples per background step: ~0.1-0.3 s of work, so pause/stop answer quickly


class WormRoom(param.Parameterized):
    """Browse whole-brain calcium traces beside behaviour, anatomy and the connectome."""

    # ---- what is on show -------------------------------------------------------------------
    dataset = param.Selector(default=datasets.SIMULATED, objects=[datasets.SIMULATED],
                             doc="The dataset to browse. The simulated default is generated on "
                                 "the real connectome; real recordings appear when present.")
    worm = param.Selector(default=None, objects=[], allow_None=True, doc="The recording on show.")
    compare_worms = param.ListSelector(default=[], objects=[],
                                       doc="Worms to compare on the neurons they share.")
    order = param.Selector(default="name", objects=list(ORDERS),
                           doc="Heatmap rows by name, by activity clustering, or by connectome "
                               "position (Fiedler vector of the anatomical wiring).")
    selected = param.List(default=[], item_type=str,
                          doc="Neurons whose traces are stacked under the heatmap.")
    query = param.String(default="", doc="Search neurons by name or class (AVA, RIM, VB...).")
    time_s = param.Number(default=0.0, bounds=(0, None), doc="The time cursor in seconds.")
    focus = param.String(default="", doc="Neuron whose synaptic partners are listed.")
    partner_kind = param.Selector(default="all", objects=list(PARTNER_KINDS),
                                  doc="Which synapses count as partners.")
    max_partners = param.Integer(default=6, bounds=(1, 30), doc="Partner traces to show at most.")

    # ---- preprocessing ---------------------------------------------------------------------
    resample_dt = param.Number(default=0.0, bounds=(0.0, 5.0), step=0.1,
                               doc="Resample to this step in seconds (0 keeps the recording's).")
    smoothing = param.Selector(default="none", objects=list(SMOOTHING), doc="Smoothing method.")
    smoothing_window = param.Integer(default=5, bounds=(1, 200),
                                     doc="Causal moving-average window in samples.")
    smoothing_sigma_s = param.Number(default=1.0, bounds=(0.05, 30.0),
                                     doc="Gaussian smoothing width in seconds.")
    derivative = param.Boolean(default=False, doc="Show the time derivative of each trace.")
    normalisation = param.Selector(default="z-score", objects=list(NORMALISATION),
                                   doc="Per-neuron z-score, dF/F (needs raw fluorescence) or none.")
    merge_bilateral = param.Boolean(default=False, doc="Average left/right pairs (AVAL + AVAR -> AVA).")

    # ---- simulated default -----------------------------------------------------------------
    sim_worms = param.Integer(default=6, bounds=(1, 40), doc="Number of simulated worms.")
    sim_duration_s = param.Number(default=960.0, bounds=(60.0, 3600.0), doc="Simulated seconds.")
    sim_dt = param.Number(default=0.6, bounds=(0.1, 2.0), doc="Sampling step of the simulation (s).")
    sim_seed = param.Integer(default=0, bounds=(0, None), doc="Seed of the simulation.")

    # ---- results (read-only) ---------------------------------------------------------------
    recording = param.Parameter(default=None, constant=True,
                                doc="The preprocessed recording on show (engine Recording).")
    dataset_version = param.Integer(default=0, constant=True, doc="Bumped when datasets change.")
    matches = param.List(default=[], constant=True, doc="Neurons matching the query.")
    status = param.String(default="", constant=True, doc="One line on what is on show.")
    warnings = param.List(default=[], constant=True, doc="Loader warnings for the worm on show.")

    def __init__(self, start_simulation: bool = True, **params):
        super().__init__(**params)
        self.task = BackgroundTask(name="worm-simulation")
        self._sources: dict[str, object] = {}
        self._raw: Recording | None = None
        self._shown: tuple = (None, None)  # (dataset, worm) whose recording is on show
        self._simulation_done = threading.Event()
        self.param.watch(self._preprocessing_changed, PREPROCESSING)
        for label, path in datasets.shared_datasets().items():
            self._register(label, datasets.open_path(path), select=False)
        cached = datasets.cached_simulation(self._sim_key())
        if cached is not None:
            self._register(datasets.SIMULATED, cached)
        elif start_simulation:
            self.simulate()

    def wait_for_simulation(self, timeout: float = 120.0) -> bool:
        """Block until the background simulation has finished and been published."""
        if self.task.state == "idle":  # nothing was started (the cached default was used)
            return True
        return self._simulation_done.wait(timeout)

    # ---- datasets --------------------------------------------------------------------------
    def _sim_key(self) -> tuple:
        return datasets.simulation_key(self.sim_worms, self.sim_duration_s, self.sim_dt, self.sim_seed)

    def simulate(self) -> None:
        """(Re)generate the simulated dataset in the background with the sim_* settings."""
        key = self._sim_key()
        simulator = WormSimulator(n_worms=self.sim_worms, duration_s=self.sim_duration_s,
                                  dt=self.sim_dt, seed=self.sim_seed)

        def step():
            if simulator.samples_done >= simulator.n_time:
                return None
            return simulator.advance(SIM_CHUNK) * simulator.n_worms

        def finished(outcome: str):
            try:
                if outcome == "finished":
                    collection = simulator.collection()
                    datasets.remember_simulation(key, collection)
                    self._register(datasets.SIMULATED, collection)
            finally:
                self._simulation_done.set()

        self._simulation_done.clear()
        self._set(status=f"simulating {self.sim_worms} worms x {self.sim_duration_s:.0f} s "
                         f"on the connectome (simulated data)...")
        self.task.start(step, total_steps=simulator.n_time * simulator.n_worms, on_finish=finished)

    def load_path(self, path) -> None:
        """Open a file or folder from this machine; the room keeps what it had on failure."""
        source = datasets.open_path(path)
        self._register(f"file: {path}", source)

    def load_upload(self, files: list[tuple[str, bytes]]) -> None:
        """Open uploaded (filename, bytes) pairs; the room keeps what it had on failure."""
        source = datasets.open_uploads(files)
        self._register(f"upload: {', '.join(name for name, _ in files)}", source)

    def _register(self, label: str, source, select: bool = True) -> None:
        self._sources[label] = source
        self._shown = (None, None)  # a reloaded dataset may reuse the label and worm names
        labels = [datasets.SIMULATED] + [k for k in self._sources if k != datasets.SIMULATED]
        self.param.dataset.objects = labels
        with param.edit_constant(self):
            self.dataset_version += 1
        if select:
            if self.dataset == label:
                self._dataset_changed()
            else:
                self.dataset = label

    @property
    def source(self):
        """The dataset on show (Collection or LazyCollection), or None while simulating."""
        return self._sources.get(self.dataset)

    @property
    def is_simulated(self) -> bool:
        return self.recording is not None and self.recording.simulated

    @param.depends("dataset", watch=True)
    def _dataset_changed(self) -> None:
        source = self.source
        names = source.names() if source is not None else []
        self.param.worm.objects = names
        self.param.compare_worms.objects = names
        self.compare_worms = names[:2]
        if self.worm not in names:
            self.worm = names[0] if names else None
        elif self._shown != (self.dataset, self.worm):  # a linked widget may have done it already
            self._worm_changed()

    # ---- the recording on show -------------------------------------------------------------
    @param.depends("worm", watch=True)
    def _worm_changed(self) -> None:
        if self.worm is None or self.source is None:
            self._raw = None
            self._set(recording=None, warnings=[], status="")
            return
        self._raw = self.source[self.worm]
        self._shown = (self.dataset, self.worm)
        self._refresh()

    def pipeline(self) -> Pipeline:
        """The preprocessing steps the parameters ask for, in a fixed, sensible order."""
        steps = []
        if self.resample_dt > 0:
            steps.append(Resample(self.resample_dt))
        if self.smoothing == "causal moving average":
            steps.append(CausalMovingAverage(self.smoothing_window))
        elif self.smoothing == "gaussian":
            steps.append(GaussianSmooth(self.smoothing_sigma_s))
        if self.normalisation == "dF/F":  # on raw fluorescence, before any derivative
            steps.append(DeltaFOverF())
        if self.derivative:
            steps.append(Derivative())
        if self.normalisation == "z-score":
            steps.append(ZScore())
        if self.merge_bilateral:
            steps.append(BilateralMerge())
        return Pipeline(steps)

    def preprocess(self, recording: Recording) -> Recording:
        return self.pipeline()(recording)

    def _preprocessing_changed(self, *events) -> None:
        try:
            self._refresh()
        except InvalidInputError:
            # Put back the setting that made the recording unusable; the view keeps its plots.
            with param.parameterized.discard_events(self):
                self.param.update({e.name: e.old for e in events})
            raise

    def _refresh(self) -> None:
        if self._raw is None:
            return
        rec = self.preprocess(self._raw)
        names = set(rec.labelled_columns())
        kept = [n for n in self._translate(self.selected, rec) if n in names]
        if not kept:
            kept = self._default_selection(rec)
        kind = "SIMULATED data" if rec.simulated else rec.provenance.get("source", "recording")
        status = (f"{rec.name} · {kind} · {rec.n_neurons} neurons ({len(names)} identified) "
                  f"· {rec.n_time:,} samples · {rec.time[-1]:.0f} s")
        self.param.time_s.bounds = (0.0, float(rec.time[-1]))
        self._set(recording=rec, warnings=list(self._raw.warnings), status=status)
        with param.parameterized.batch_call_watchers(self):
            self.selected = kept
            self.time_s = float(np.clip(self.time_s, 0.0, rec.time[-1]))
            if self.focus not in names:
                self.focus = kept[0] if kept else ""
        self._update_matches()

    @staticmethod
    def _translate(neurons: list[str], rec: Recording) -> list[str]:
        """Selected names carried across the bilateral toggle (AVAL <-> AVA)."""
        merged = rec.provenance.get("neuron_axis") == "classes"
        out: list[str] = []
        for n in neurons:
            if merged:
                options = [c for c, members in CLASS_MEMBERS.items() if n in members] or [n]
            else:
                options = list(CLASS_MEMBERS.get(n, (n,)))
            out += [o for o in options if o not in out]
        return out

    @staticmethod
    def _default_selection(rec: Recording) -> list[str]:
        """A few neurons every worm biologist looks at first, where recorded."""
        names = rec.labelled_columns()
        favourites = ["AVAL", "AVAR", "AVA", "AVBL", "AVB", "RIML", "RIM", "SMDVL", "SMDV"]
        picked = [n for n in favourites if n in names][:3]
        return picked or list(names)[:3]

    # ---- neurons ---------------------------------------------------------------------------
    @param.depends("query", watch=True)
    def _update_matches(self) -> None:
        rec = self.recording
        names = sorted(rec.labelled_columns()) if rec is not None else []
        self._set(matches=search_neurons(self.query, names) if self.query.strip() else [])

    def add_neuron(self, name: str) -> None:
        """Stack ``name``'s trace (any spelling; InvalidInputError if this worm lacks it)."""
        rec = self._require_recording()
        neuron = name.strip().upper()
        if neuron not in rec.labelled_columns():
            found = search_neurons(neuron, sorted(rec.labelled_columns()))
            if not found:
                raise InvalidInputError(f"{rec.name}: no identified neuron matches {name!r}")
            neuron = found[0]
        if neuron not in self.selected:
            self.selected = self.selected + [neuron]
        self.focus = neuron

    def remove_neuron(self, name: str) -> None:
        self.selected = [n for n in self.selected if n != name]

    def _require_recording(self) -> Recording:
        if self.recording is None:
            raise InvalidInputError("no recording is open yet")
        return self.recording

    # ---- derived data for the views ---------------------------------------------------------
    def row_order(self, rec: Recording | None = None) -> np.ndarray:
        rec = rec or self._require_recording()
        if self.order == "clustering":
            return order_by_clustering(rec.traces)
        if self.order == "connectome":
            return order_by_connectome(rec.labels, rec.neuron_axis)
        return order_by_name(rec.labels)

    def heatmap_rows(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(time, (rows x T) values, row names) in the chosen order; unlabelled as '#col'."""
        rec = self._require_recording()
        order = self.row_order(rec)
        names = [rec.labels[c] or f"#{c}" for c in order]
        return rec.time, rec.traces[:, order].T, names

    def traces(self, neurons: list[str]) -> dict[str, np.ndarray]:
        rec = self._require_recording()
        columns = rec.labelled_columns()
        return {n: rec.traces[:, columns[n]] for n in neurons if n in columns}

    def behaviour(self) -> dict[str, np.ndarray]:
        """Behaviour tracks worth plotting (velocity, head angle, pumping...), in that order."""
        rec = self._require_recording()
        preferred = ["velocity", "head_angle", "angular_velocity", "pumping", "worm_curvature"]
        return {k: np.asarray(rec.behaviour[k], float) for k in preferred if k in rec.behaviour
                and np.ndim(rec.behaviour[k]) == 1}

    def events(self) -> pd.DataFrame:
        return self._require_recording().events

    def activity_at(self, time_s: float | None = None) -> pd.Series:
        """Activity of every identified neuron at the cursor (nearest sample), by name."""
        rec = self._require_recording()
        t = self.time_s if time_s is None else time_s
        k = int(np.clip(np.searchsorted(rec.time, t), 0, rec.n_time - 1))
        columns = rec.labelled_columns()
        return pd.Series({n: float(rec.traces[k, c]) for n, c in columns.items()}, dtype=float)

    def positions(self) -> pd.DataFrame:
        """Anatomical x, y, z of the neurons on show (classes sit at their members' mean),
        with 'recorded' and 'activity' columns for the cursor's time."""
        rec = self._require_recording()
        atlas = neuron_positions()
        if rec.provenance.get("neuron_axis") == "classes":
            atlas = atlas.groupby(lambda n: next(c for c, m in CLASS_MEMBERS.items() if n in m)).mean()
        table = atlas.dropna().copy()
        activity = self.activity_at()
        table["recorded"] = table.index.isin(activity.index)
        table["activity"] = activity.reindex(table.index).to_numpy()
        return table

    def partners(self, neuron: str | None = None) -> pd.DataFrame:
        """Synaptic partners of ``neuron`` (or the focus) with whether this worm recorded them."""
        rec = self._require_recording()
        neuron = neuron or self.focus
        if not neuron:
            return pd.DataFrame(columns=["partner", "kind", "weight", "recorded"])
        merged = rec.provenance.get("neuron_axis") == "classes"
        members = CLASS_MEMBERS.get(neuron, (neuron,)) if merged else (neuron,)
        table = pd.concat([anatomical_connectome().partners(m) for m in members], ignore_index=True)
        if merged:
            to_class = {m: c for c, ms in CLASS_MEMBERS.items() for m in ms}
            table["partner"] = table["partner"].map(to_class)
            table = table[table["partner"] != neuron]
        if self.partner_kind == "chemical":
            table = table[table["kind"].str.startswith("chemical")]
        elif self.partner_kind == "gap junction":
            table = table[table["kind"] == "gap junction"]
        table = (table.groupby(["partner", "kind"], as_index=False)["weight"].sum()
                 .sort_values(["weight", "partner"], ascending=[False, True], ignore_index=True))
        table["recorded"] = table["partner"].isin(rec.labelled_columns())
        return table

    def partner_traces(self) -> dict[str, np.ndarray]:
        """Traces of the focus neuron's heaviest recorded partners (at most max_partners)."""
        table = self.partners()
        recorded = list(dict.fromkeys(table.loc[table["recorded"], "partner"]))
        return self.traces(recorded[:self.max_partners])

    def comparison(self) -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Neurons shared by the compared worms and, per worm, (time, shared x T traces)."""
        chosen = [w for w in self.compare_worms if self.source is not None and w in self.source.names()]
        if not chosen:
            return [], {}
        recs = {w: self.preprocess(self.source[w]) for w in chosen}
        shared = set.intersection(*(set(r.labelled_columns()) for r in recs.values()))
        first = next(iter(recs.values()))
        shared = [n for n in first.neuron_axis if n in shared]
        out = {}
        for w, r in recs.items():
            cols = r.labelled_columns()
            out[w] = (r.time, r.traces[:, [cols[n] for n in shared]].T)
        return shared, out

    def _set(self, **values) -> None:
        with param.edit_constant(self):
            self.param.update(**values)
