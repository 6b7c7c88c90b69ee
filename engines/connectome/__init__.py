"""Dynamic functional connectome: affinity tensors, non-negative tensor factorisation, communities.

Pipeline (Dyballa et al., ICLR 2024; choices documented in each module):
traces -> sliding-window affinities per worm -> tensor (window x worm x neuron pair, masked)
-> non-negative CP (tensorly HALS, EM for masked entries) swept over ranks x restarts (dask)
-> per component: temporal profile, worm loadings, pair loadings as a weighted neuron graph
-> communities (Leiden, or the lab's weighted SBM) -> enrichment against anatomy and the
signal-propagation atlas -> export.

Public API (all pure numpy/pandas; nothing here imports a UI library)

tensor (engines.connectome.tensor)
    build_tensor(traces, neuron_names, dt, window_s, step_s, affinity="correlation", rank=None,
                 worm_names=None, min_worm_fraction=0.5, progress=None, kernel_lag_s=0.0, **affinity_options)
        traces: list of (T, n_neurons) float arrays, NaN columns for unrecorded neurons.
        progress(fraction, message) after each worm; kernel_lag_s: the kernel affinity's lag
        tolerance (s). -> AffinityTensor
    from_collection(collection, window_s, step_s, affinity=..., **kwargs) -> AffinityTensor
        for an engines.worms.model.Collection (canonical neuron axis).
    AffinityTensor: values / mask (n_windows, n_worms, n_pairs), neurons, pairs (n_pairs, 2),
        window_start_s, window_centre_s, window_s, step_s, worm_names, affinity,
        observed_fraction, pair_matrix(pair_vector) -> (n_neurons, n_neurons).
affinity (engines.connectome.affinity)
    AFFINITIES = ("correlation", "kernel", "mutual_information"); compute_affinity(windows, kind)
ntf (engines.connectome.ntf)
    NTFRunner(values, mask, rank, seed=0, tol=1e-5, max_iter=300): .step(n), .snapshot() ->
        NTFResult, .done, .n_iter, .errors (step-wise: drive it from a background thread).
    fit_ntf(values, mask, rank, seed, tol, max_iter, progress=None, should_stop=None)
        -> (NTFResult, imputed tensor)
    NTFResult: weights (rank,), factors [temporal (windows x R), worm (worms x R),
        pair (pairs x R)] with unit-norm columns, components sorted by weight; errors, error,
        n_iter, converged, cp_tensor.
sweep / rank_selection
    SweepRunner(values, mask, ranks, n_restarts=3, seed=0, tol, max_iter, client=None):
        .step() finishes one (rank, restart) fit and returns it (through the Dask ``client``
        when given, else here), .done, .fits, .jobs, .cancel(), .result() -> SweepResult.
    run_sweep(values, mask, ranks, n_restarts=3, executor="dask"|"serial",
              scheduler_address=None, n_workers=2, seed=0, progress=None, should_stop=None)
        -> SweepResult: fits (DataFrame per rank x restart: error, n_iter, converged,
        core_consistency), summary (per rank: error, core_consistency, factor_match_score),
        recommended_rank, reason, results[(rank, restart)], best(rank), cancelled.
        A thin loop over SweepRunner.
    dask_client(scheduler_address=None, n_workers=2): the one place a Dask client is made
        (connected to a scheduler, or a LocalCluster of one-thread processes for the block).
    rank_selection.recommend_rank(summary, min_core_consistency=50, min_fms=0.85)
communities (engines.connectome.communities, engines.connectome.sbm)
    component_graph(tensor, pair_factor_column) -> (n, n) weights scaled to max 1
    detect_communities(weights, method="leiden"|"sbm", seed=0, **options) -> labels (n,)
    component_communities(tensor, pair_factors, method) -> {component: labels}
    order_by_community(labels, weights) -> display order
    sbm.fit_sbm(weights, max_blocks=8, distribution="normal"|"exponential") -> SBMFit
components (engines.connectome.components): what one component shows
    epoch_coverage(starts_s, window_s, epochs) -> fraction of each window per epoch label;
    behaviour_fraction(epochs, starts_s, window_s); best_match(profile, coverage);
    component_summary(result, coverage, communities) -> DataFrame (weight, communities,
    stimulus, stimulus_r); ordered_matrix(tensor, pair_factor, labels);
    graph_layout(weights, neurons, labels, strongest=0.1, seed=0) -> (nodes, edges).
enrichment (engines.connectome.enrichment)
    connectivity_layers() -> {"chemical", "gap junction", "signal propagation": (names, matrix)}
    enrichment(labels: {neuron: community}, layers, n_shuffles=1000, seed=0) -> DataFrame
        (layer, community, size, observed, null_mean, null_sd, z, p_value, q_value)
export (engines.connectome.export, atomic writes)
    factors_npz(path, tensor, result); factors_csv(prefix, tensor, result) -> paths;
    factors_frames(tensor, result) -> {temporal, worm, pair: DataFrame};
    partitions_csv(path, neurons, {name: labels});
    settings_json(path, settings, results) (with library_versions())
errors (engines.connectome.errors; all InvalidInputError): TooFewNeuronsError,
    TooFewWindowsError, NoSharedNeuronsError, AllNaNTracesError, UnidentifiedNeuronsError
    (a recording whose traces carry no neuron names) — raised before long work.
"""
