"""C. elegans whole-brain activity: loaders, model, preprocessing, simulation, anatomy.

The contract the worm room builds on (all names importable from ``engines.worms``):

Model (model.py)
    CANONICAL_NEURONS, NEURON_INDEX   the 300-neuron axis (302 minus CANL/CANR, sorted)
    Recording(name, time, traces, labels, behaviour, events, provenance, warnings)
        .aligned() -> ((T, 300) float32 with NaN columns, (300,) bool mask)
        .trace(neuron), .labelled_columns(), .dt, .simulated, .replace(**changes)
    Collection(name, recordings): names(), [name | index], len(), shared_neurons()

Loading (loaders/)             every loader raises InvalidInputError naming file and field;
                               softer problems (unknown names, NaN runs) land in .warnings
    load(path) -> Collection    by extension/content: .h5 (Flavell, NWB), .nwb, .parquet,
                               .pickle/.pkl, .mat, .csv, .npz, or a folder of Flavell files
    load_flavell_h5, load_harmonised_parquet, list_worms, load_harmonised_pickle,
    load_kato_mat, load_nwb, load_plain_csv, load_plain_npz, save_plain_npz
    LazyCollection(folder | parquet)   names() without reading; recordings read on access
    long_table(collection) -> dask.dataframe (worm, neuron, slot, column, time, value)

Preprocessing (preprocess.py)  steps map Recording -> new Recording; Pipeline([...])(rec)
    Resample(dt), CausalMovingAverage(window), GaussianSmooth(sigma_s), Derivative(),
    ZScore(), DeltaFOverF(percentile), BilateralMerge()  (axis becomes CANONICAL_CLASSES)

Neurons (neurons.py)  normalise_name, search_neurons, BILATERAL_CLASS, CLASS_MEMBERS,
    CANONICAL_CLASSES

Simulation, the embedded default (simulate.py; latents, circuit and parameters in
simulation_latents.py, simulation_circuit.py, simulation_params.py)
    simulate_collection(n_worms, duration_s, dt, seed, params) -> (Collection, GroundTruth)
    WormSimulator: advance(n) / snapshot() / restore() / collection() / ground_truth()
    SimulationParams (frozen; bounds, unit and doc per field), parameter_specs() -> ParamSpec

Statistics (statistics.py)  worm_statistics(recording) -> WormStatistics (autocorrelation at
    10 s, PCA variance, mean |correlation|, reversal rate and duration) under the standard
    preprocessing; TARGETS: the ranges real recordings fall in

Anatomy (connectome.py)  anatomical_connectome(name) -> Connectome(chemical, gap).partners(n);
    neuron_positions() -> DataFrame x, y, z; signal_propagation_atlas(strain, quantity)

Graph (graph.py)  connectome_graph(axis) -> ConnectomeGraph(nodes, chemical, gap): .edges,
    .partners(n, kinds), .weights(kinds); neuron_types() (Cook 2019 sensory/inter/motor);
    band_layout(axis) -> x, y, band; shortest_paths(graph, a, b, max_hops, kinds) -> PathSearch

Activity for drawing (activity.py)  sample_index(time, t), scaled_per_neuron(traces),
    correlation_with(traces, reference), replay_frames(rec, graph) -> ReplayFrames
    (.nodes_at(k), .edges_at(k)), positions_on_axis(axis), nearest_neuron(table, xyz, radius)

Row orders (ordering.py)  ORDERS, order_by_name, order_by_clustering, order_by_connectome

Heatmaps (heatmap.py)  trace_image_source(traces, time), heatmap_aggregate(source, x_range, ...),
    HeatmapPyramid(traces, time).aggregate(x_range, y_range, width, height)

Download (download.py)  fetch_harmonised(cache_dir, base_url) (OfflineError when offline),
    cached_files(), default_cache_dir()
"""
from engines.worms.activity import (ReplayFrames, correlation_with, nearest_neuron,
                                    positions_on_axis, replay_frames, sample_index,
                                    scaled_per_neuron)
from engines.worms.connectome import (Connectome, anatomical_connectome, neuron_positions,
                                      signal_propagation_atlas)
from engines.worms.download import OfflineError, cached_files, fetch_harmonised
from engines.worms.graph import (BANDS, EDGE_KINDS, ConnectomeGraph, PathSearch, band_layout,
                                 connectome_graph, neuron_types, shortest_paths)
from engines.worms.heatmap import HeatmapPyramid, heatmap_aggregate, trace_image_source
from engines.worms.lazy import LazyCollection, long_table
from engines.worms.loaders import (load, load_flavell_h5, load_harmonised_parquet,
                                   load_harmonised_pickle, load_kato_mat, load_nwb,
                                   load_plain_csv, load_plain_npz, save_plain_npz)
from engines.worms.model import Collection, Recording
from engines.worms.ordering import (ORDERS, order_by_clustering, order_by_connectome,
                                    order_by_name)
from engines.worms.neurons import (BILATERAL_CLASS, CANONICAL_CLASSES, CANONICAL_NEURONS,
                                   CLASS_MEMBERS, NEURON_INDEX, normalise_name, search_neurons)
from engines.worms.preprocess import (BilateralMerge, CausalMovingAverage, DeltaFOverF,
                                      Derivative, GaussianSmooth, Pipeline, Resample, ZScore)
from engines.worms.simulate import GroundTruth, WormSimulator, simulate_collection
from engines.worms.simulation_params import ParamSpec, SimulationParams, parameter_specs
from engines.worms.statistics import TARGETS, WormStatistics, worm_statistics
