"""The dynamic-connectome room's model: recordings -> affinity tensor -> NTF -> communities.

Actions (``build``, ``factorise``, ``sweep``, ``use_recommended_rank``) check their settings
synchronously, raising the engine's typed errors before any long work, then run the pipeline's
stages (``lab.connectome.pipeline``) as one ``BackgroundTask`` on a snapshot of the settings.
Results are read-only parameters the views watch; what the views draw from them is computed by
the engine (``engines.connectome.components``). Nothing runs in the constructor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import param

from engines.connectome import components
from engines.connectome.affinity import AFFINITIES
from engines.connectome.communities import METHODS, component_graph
from engines.connectome.ntf import NTFResult
from engines.connectome.sweep import EXECUTORS, check_sweep
from engines.connectome.tensor import AffinityTensor
from engines.connectome.validation import check_rank
from engines.errors import InvalidInputError
from lab import cluster
from lab.connectome import aligned, export
from lab.connectome.pipeline import GROUPS, NO_RESULTS, Pipeline, build_steps, factorise_steps
from lab.connectome.plan import (DATA_FOLDER_SOURCE, SIMULATED, UPLOAD, plan_recordings, read_upload,
                                 source_choices)
from lab.room import RoomModel
from lab.tasks import BackgroundTask


class ConnectomeRoom(RoomModel):
    # ---- recordings ------------------------------------------------------------------------
    source = param.Selector(default=SIMULATED, objects=[SIMULATED, DATA_FOLDER_SOURCE, UPLOAD], label="Recordings",
                            doc="Simulated worms with known modules, recordings in the lab's data folder "
                                "(where the operator named one), or your own files.")
    n_worms = param.Integer(default=4, bounds=(1, 20), label="Simulated worms", doc="How many worms to simulate.")
    duration_s = param.Number(default=360.0, bounds=(60.0, 1200.0), step=60.0, label="Recording length (s)",
                              doc="Length of each simulated recording, seconds.")
    simulation_seed = param.Integer(default=0, bounds=(0, None), label="Simulation seed",
                                    doc="Seed of the simulated worms.")
    path = param.String(default="", label="Path in the data folder",
                        doc="A recording file (.h5, .nwb, .mat, .csv, .npz, ...) or a folder of Flavell-lab "
                            "files, relative to the lab's data folder.")
    # ---- affinity tensor -------------------------------------------------------------------
    affinity = param.Selector(default="correlation", objects=list(AFFINITIES), label="Affinity",
                              doc="correlation: rectified Pearson r (linear); kernel: self-tuning Gaussian "
                                  "kernel of derivatives; mutual_information: binned MI (needs long windows).")
    kernel_lag_s = param.Number(default=0.0, bounds=(0.0, 60.0), step=1.0, label="Kernel lag tolerance (s)",
                                doc="Kernel affinity only: each pair's distance is the smallest over shifts of up to "
                                    "this many seconds, so neurons that co-activate seconds apart count as close. "
                                    "Windows must be more than twice as long.")
    window_s = param.Number(default=20.0, bounds=(2.0, 600.0), step=1.0, label="Window (s)",
                            doc="Sliding window length, seconds.")
    step_s = param.Number(default=10.0, bounds=(0.5, 600.0), step=1.0, label="Step between windows (s)",
                          doc="Time from one window's start to the next, seconds.")
    min_worm_fraction = param.Number(default=0.75, bounds=(0.0, 1.0), step=0.05,
                                     label="Neurons in at least (fraction of worms)",
                                     doc="Keep neurons recorded in at least this fraction of the worms.")
    factorise_after_build = param.Boolean(default=True, label="Factorise after build",
                                          doc="Factorise and find communities as soon as the tensor is built.")
    # ---- factorisation ---------------------------------------------------------------------
    rank = param.Integer(default=5, bounds=(1, 30), softbounds=(1, 15), label="Rank (components)",
                         doc="Number of NTF components.")
    max_iter = param.Integer(default=100, bounds=(5, 2000), label="Most HALS sweeps per fit",
                             doc="The fit stops after this many sweeps if it has not converged.")
    tol = param.Number(default=1e-4, bounds=(0.0, 0.1), label="Tolerance (relative error change)",
                       doc="Stop when the relative error changes by less than this between sweeps.")
    ntf_seed = param.Integer(default=0, bounds=(0, None), label="NTF seed", doc="Seed of the NTF initialisation.")
    # ---- rank sweep ------------------------------------------------------------------------
    sweep_from = param.Integer(default=2, bounds=(1, 30), softbounds=(1, 15), label="Sweep from rank",
                               doc="Lowest rank the sweep fits.")
    sweep_to = param.Integer(default=5, bounds=(1, 30), softbounds=(1, 15), label="Sweep to rank",
                             doc="Highest rank the sweep fits.")
    n_restarts = param.Integer(default=2, bounds=(1, 10), label="Restarts per rank",
                               doc="Fits per rank from different seeds: their agreement is the factor match score.")
    executor = param.Selector(default="serial", objects=list(EXECUTORS), label="Sweep runs on",
                              doc="serial: in this session's thread; dask: the lab's Dask scheduler, or a "
                                  "local cluster of processes where none is set.")
    # ---- communities and enrichment --------------------------------------------------------
    community_method = param.Selector(default="leiden", objects=list(METHODS), label="Communities by",
                                      doc="leiden: modularity (leidenalg); sbm: weighted stochastic block model.")
    resolution = param.Number(default=1.0, bounds=(0.05, 5.0), step=0.05, label="Leiden resolution",
                              doc="Higher gives more, smaller communities.")
    max_blocks = param.Integer(default=6, bounds=(2, 12), label="Most SBM blocks", doc="Most blocks the SBM may use.")
    n_shuffles = param.Integer(default=200, bounds=(20, 5000), label="Enrichment shuffles",
                               doc="Label shuffles of the enrichment's null distribution.")
    # ---- results (read-only) ---------------------------------------------------------------
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
    produced_by = param.Dict(default={}, constant=True, doc="The settings the results came from, by stage.")
    selected_neuron = param.String(default="", doc="The neuron picked in the community view ('' for none).")

    # Everything the user sets is kept in the page's URL.
    url_parameters = tuple(name for names in GROUPS.values() for name in names)

    def __init__(self, **params):
        super().__init__(**params)
        self.param.source.objects = source_choices()   # paths only where a data folder is named
        self._pipeline = Pipeline(self._publish)
        if "executor" not in params and cluster.configured():
            # the operator's cluster is where finite jobs run: this room's default (a link without
            # an executor, which the shell restores to defaults, keeps it)
            self.param.executor.default = self.executor = "dask"
        self.task = self.owns(BackgroundTask(name="connectome", kind="finite"))
        self._cache: dict = {}                                # source key -> Recordings
        self._uploaded: aligned.Recordings | None = None

    def settings(self) -> dict:
        """Every setting, as the next action will use it."""
        return {name: getattr(self, name) for name in self.url_parameters}

    # ---- actions ---------------------------------------------------------------------------
    def build(self) -> None:
        """Read or simulate the recordings and build the tensor (then factorise, if asked)."""
        settings = self.settings()
        plan = plan_recordings(settings, self._cache, self._uploaded)
        self._start(self._pipeline.build(plan, settings, self._cache), build_steps(plan, settings))

    def factorise(self) -> None:
        """NTF of the current tensor at ``rank``, then communities and enrichment."""
        tensor, settings = self._require_tensor(), self.settings()
        check_rank(tensor.shape, self.rank)
        self._start(self._pipeline.factorise(tensor, settings), factorise_steps(settings))

    def sweep(self) -> None:
        """Fit every rank from ``sweep_from`` to ``sweep_to`` ``n_restarts`` times; recommend one."""
        tensor, settings = self._require_tensor(), self.settings()
        ranks = list(range(min(self.sweep_from, self.sweep_to), max(self.sweep_from, self.sweep_to) + 1))
        check_sweep(tensor.shape, ranks, self.n_restarts)
        self._start(self._pipeline.sweep(tensor, settings, ranks), len(ranks) * self.n_restarts)

    def use_recommended_rank(self) -> None:
        """Set the rank the sweep recommends and refit at it."""
        if self.recommended_rank is None:
            raise InvalidInputError("Run the rank sweep first: there is no recommended rank yet.")
        self.rank = self.recommended_rank
        self.factorise()

    def pause(self) -> None:
        self.task.pause()

    def resume(self) -> None:
        self.task.resume()

    def stop(self) -> None:
        self.task.stop()

    def reset(self) -> None:
        """Stop any work and forget every result (the recordings cache is kept)."""
        self.stop()
        self._pipeline.recordings = None
        self._publish(**NO_RESULTS, stage="")

    def load_upload(self, files: list[tuple[str, bytes]]) -> None:
        """Read uploaded (filename, bytes) pairs; on failure the previous upload is kept."""
        self._uploaded = read_upload(files)
        self.source = UPLOAD

    def load_collection(self, collection, label: str | None = None) -> None:
        """Use recordings already in memory (an ``engines.worms.Collection``) as the 'upload' source."""
        self._uploaded = aligned.from_collection(collection, label or collection.name)
        self.source = UPLOAD

    @property
    def uploaded(self) -> aligned.Recordings | None:
        return self._uploaded

    @property
    def recordings(self) -> aligned.Recordings | None:
        """The recordings the current tensor was built from."""
        return self._pipeline.recordings

    def export(self, folder: str) -> list[str]:
        """Factors, partitions, enrichment and the settings that produced them, into ``folder``."""
        return export.write_files(self, folder)

    def export_zip(self) -> bytes:
        return export.zip_bytes(self)

    # ---- what views read (computed by the engine) ------------------------------------------
    def component_matrix(self, k: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Component ``k``'s neuron x neuron affinity ordered by community: (matrix, names, labels)."""
        return components.ordered_matrix(self.tensor, self.result.factors[2][:, k], self.communities.get(k))

    def stimulus_epochs(self) -> pd.DataFrame:
        recordings = self.recordings
        return recordings.stimulus_epochs() if recordings else pd.DataFrame(columns=["start_s", "end_s", "label"])

    def reversal_fraction(self) -> np.ndarray:
        """Mean fraction of each window the worms spent reversing (NaN when not known)."""
        recordings, tensor = self.recordings, self.tensor
        if recordings is None or tensor is None:
            return np.array([])
        return components.behaviour_fraction(recordings.behaviour_epochs("reversal"), tensor.window_start_s,
                                             tensor.window_s)

    def stimulus_coverage(self) -> pd.DataFrame:
        """Fraction of each window covered by each stimulus label (one column per label)."""
        return components.epoch_coverage(self.tensor.window_start_s, self.tensor.window_s, self.stimulus_epochs())

    def component_summary(self) -> pd.DataFrame:
        """Per component: weight, communities, and the stimulus its temporal profile follows best."""
        coverage = self.stimulus_coverage() if self.tensor is not None else pd.DataFrame()
        return components.component_summary(self.result, coverage, self.communities)

    def community_graph(self, k: int, strongest: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Component ``k`` as a graph: nodes (neuron, community, x, y) and its strongest edges."""
        weights = component_graph(self.tensor, self.result.factors[2][:, k])
        return components.graph_layout(weights, self.tensor.neurons, self.communities.get(k), strongest)

    def selected_in(self, k: int) -> dict | None:
        """The selected neuron in component ``k``: its community, its strongest ties in the component
        and its synaptic partners (Cook 2019); None when none is selected or it was not analysed."""
        neuron, tensor = self.selected_neuron, self.tensor
        if not neuron or tensor is None or self.result is None or neuron not in tensor.neurons:
            return None
        from engines.worms import anatomical_connectome
        labels = self.communities.get(k)
        weights = component_graph(tensor, self.result.factors[2][:, k])
        return {"neuron": neuron, "community": None if labels is None else int(labels[tensor.neurons.index(neuron)]),
                "ties": components.neuron_ties(weights, tensor.neurons, labels, neuron),
                "synapses": anatomical_connectome().partners(neuron)}

    def neuron_positions(self) -> pd.DataFrame:
        """Anatomical x, y, z of the tensor's neurons (NaN where the atlas has none)."""
        from engines.worms import neuron_positions
        return neuron_positions().reindex(list(self.tensor.neurons))

    # ---- running the stages ----------------------------------------------------------------
    def _require_tensor(self) -> AffinityTensor:
        if self.tensor is None:
            raise InvalidInputError("Build the tensor first.")
        return self.tensor

    def _start(self, stages, total_steps: int) -> None:
        self.stop()
        self.task.start(stages.__next__, total_steps=total_steps,
                        on_finish=lambda outcome: self._finished(stages, outcome))

    def _finished(self, stages, outcome: str) -> None:
        """Close the stages (a sweep's Dask client with them) and say how the work ended."""
        stages.close()
        if outcome == "failed":
            self._publish(stage=f"failed: {self.task.error}")
        elif outcome == "stopped":
            self._publish(stage=f"stopped ({self.stage})")
