"""Reservoir engine: excitatory/inhibitory rate reservoirs with local adaptation.

Model (see ../shared/research/reservoir.md): N rate units obeying Dale's law,
V = A_E r - S * (A_I r) - D * (M_I r) + gap (G r - deg r) + W_in u,
r <- (1 - leak) r + leak f(gain (V - threshold)), f = sigmoid | tanh | linear.
S is the inhibitory scale (the global balance g = I/E, or the one-step design), D the offset
the local rule moves: every inhibitory input of neuron i changes by lr (r_i - rho_i).

Public API (what a room model drives)
-------------------------------------
Parameters (frozen, validated; bad values raise ``InvalidParameterError`` < InvalidInputError)
    ReservoirParams(n, frac_excitatory, in_degree, weight_cv, activation, gain, threshold, leak,
                    frac_input, input_scale, n_inputs, balance, gap_scale, seed)
    AdaptationParams(targets="homogeneous"|"uniform"|"beta", target_rate, target_low,
                     target_high, beta_a, beta_b, lr_fast, lr_slow, switch_step)
Topologies
    random_ei(params) -> Topology        Dale's law, k inputs per neuron, E/I drive balanced
    celegans(params) -> Topology         Cook 2019 with transmitter identities, read by
                                         engines.worms.connectome (cect's offline cache); GABA =
                                         inhibitory, symmetric gap junctions (x params.gap_scale)
    from_signed(W, W_in) -> Topology     any signed matrix (e.g. imported ESN)
    Topology.weights(g), .mean_drive(), .exc / .inh / .gap (scipy CSR), .w_in, .excitatory
Simulation (numba kernels, one thread, the GIL released: safe to run from a background thread;
a single reservoir steps in float64, a batch in float32 with simd.py's vectorised row sums)
    res = Reservoir(params, adaptive=False, adaptation=None, topology=None, targets=None)
    batch = BatchedReservoir(params, balances=[...], adaptive=[...], ...)   # shared topology
    trace = res.step(n, inputs=None, record_currents=True)   # advance n steps, returns Trace
        Trace.rates / .exc_current / .inh_current: (n, N) for Reservoir, (n, N, B) for a batch
        Trace.population_mean, .population_var, .target_error (mean |r - rho|), .inputs
    res.run(inputs) -> rates                # no currents recorded
    Live settings (each keeps the activity; a room applies them to a running network):
    res.set_balance(g), res.set_gain(c), res.set_adaptation_mode("off" | "local rule" | "one-step")
    res.adaptation_mode                     # ADAPTATION_MODES; the one-step design is kept per reservoir
    res.set_adaptation(on)                  # freeze / unfreeze the local rule (what it learned stays)
    res.design_inhibition(mean_input)       # one-step design of the inhibitory row scales
    res.snapshot() / res.restore(state) / res.reset() / res.reset_activity()
    res.effective_weights(b), res.jacobian(b)   # on demand (dense eigvals cost ~0.1 s at N=500)
    Errors: InvalidSeriesError (NaN / wrong shape input), RunawayActivityError (DivergenceError;
    the reservoir stays at its last good state and ``error.trace`` holds the good steps).
Observables
    eigenvalues(matrix), spectral_radius(matrix), classify_regime(rates, activation) -> Regime
Analyses of one reservoir as it is now (its state is left as it was)
    spectrum(res) -> Spectrum(weights, jacobian, outlier, step); spectrum_of(*linearisation(res))
    train_readout(res, task_key, seed, split) -> TaskResult (score, MC_k or prediction vs target)
Tasks (explicit Split(warmup, train, val, test); ridge readout with alpha chosen on validation)
    MemoryCapacity(k_max, split, seed) -> TaskScore(value=MC, curve=MC_k)
    Narma10(split, seed), MackeyGlass(split, seed, horizon=84).free_run(driver)
    evaluate(driver, task) -> TaskScore     # driver: reset_activity() + run(u) -> states
    TASKS = {"mc": MemoryCapacity, ...}; make_task(key, split, seed, k_max)
    fit_ridge(...), nrmse(target, prediction), narma10_series(u), mackey_glass_series(n)
Sweeps (Dask)
    SweepRunner(params, balances, adaptive_modes, seeds, tasks, ..., scheduler, regimes=False)
        .step(wait) -> jobs back; .done, .finished / .total, .table(), .regimes, .cancel()
    run_sweep(params, balances, adaptive_modes, seeds, tasks=("mc", "narma10", "mackey_glass"),
              scheduler=None | "tcp://..." | Client, progress=cb(done, total), cancel=Event)
        -> DataFrame[seed, balance, adaptive, task, metric, value]   (a loop over SweepRunner)
    summarise(table); regime_map(params, balances, adaptive_modes, adaptation, n_adapt)
    dask_client(scheduler, n_workers)   # the one place a sweep gets its Dask client (given, address, own)
Interop
    to_reservoirpy(res, b) -> reservoirpy Reservoir node (same W, W_in, activation)
    ReservoirpyDriver(node), reservoirpy_esn(n, seed, ...)
"""
from engines.reservoir.adaptation import ADAPTATION_MODES, draw_targets, learning_rates, one_step_design
from engines.reservoir.analysis import Spectrum, TaskResult, linearisation, spectrum, spectrum_of, train_readout
from engines.reservoir.interop import ReservoirpyDriver, reservoirpy_esn, to_reservoirpy
from engines.reservoir.observables import Regime, classify_regime, eigenvalues, spectral_radius
from engines.reservoir.params import AdaptationParams, InvalidParameterError, ReservoirParams
from engines.reservoir.readout import Readout, fit_ridge, nrmse
from engines.reservoir.simulator import (BatchedReservoir, InvalidSeriesError, Reservoir,
                                         RunawayActivityError, State, Trace)
from engines.reservoir.sweep import SweepRunner, dask_client, regime_map, run_sweep, summarise
from engines.reservoir.tasks import (TASKS, MackeyGlass, MemoryCapacity, Narma10, Split, TaskScore, evaluate,
                                     mackey_glass_series, make_task, narma10_series)
from engines.reservoir.topology import Topology, celegans, from_signed, random_ei

import types as _types

__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, _types.ModuleType)]
