"""The reservoir room's model: parameters, a live run, on-demand analyses and balance sweeps."""
from __future__ import annotations

import pandas as pd
import param

from engines.errors import InvalidInputError
from engines.reservoir.params import AdaptationParams, ReservoirParams
from engines.reservoir.simulator import Reservoir, RunawayActivityError
from engines.reservoir.sweep import COLUMNS, summarise
from engines.reservoir.topology import celegans, random_ei
from lab.reservoir.analysis import TASK_KEYS, Spectrum, TaskResult, spectrum, train_readout
from lab.reservoir.handover import LiveHandover
from lab.reservoir.live import LiveRun, LiveSnapshot, set_live_parameters
from lab.reservoir.sweep import CONDITIONS, SweepJob
from lab.tasks import BackgroundTask

TOPOLOGIES = ["random", "C. elegans"]
ADAPTATION_MODES = ["off", "local rule", "one-step"]
TARGET_DISTRIBUTIONS = {"uniform": "uniform", "Beta(2, 2)": "beta", "homogeneous": "homogeneous"}
CHUNK_STEPS = 25          # steps of one press of Step
PUMP_SECONDS = 0.1        # the live task waits this long for a frame, so stopping is prompt
# structural parameters rebuild the network; the others act on the running one
STRUCTURE = ["n", "frac_excitatory", "in_degree", "input_scale", "topology", "seed",
             "targets", "target_rate", "target_low", "target_high"]
LIVE = ["balance", "gain", "adaptation"]
DISPLAY = ["neuron", "frame_rate", "speed"]


class ReservoirRoom(param.Parameterized):
    """An E/I rate reservoir a student runs live, adapts, scores on a task and sweeps over g."""

    # --- the network ----------------------------------------------------------------------
    n = param.Integer(500, label="N (neurons)", bounds=(20, 1000),
                      doc="Number of neurons N (random topology).")
    frac_excitatory = param.Number(0.8, label="Excitatory fraction", bounds=(0.5, 0.95), step=0.05,
                                   doc="Fraction of excitatory neurons.")
    in_degree = param.Integer(50, label="In-degree", bounds=(2, 200),
                              doc="Presynaptic partners per neuron (must be < N).")
    gain = param.Number(10.0, label="Gain c", bounds=(0.5, 40.0), step=0.5,
                        doc="Slope c of the sigmoid r = 1 / (1 + exp(-c V)).")
    balance = param.Number(1.0, label="Balance g = I/E", bounds=(0.0, 4.0), step=0.05,
                           doc="Balance g = I/E: 1 balanced, < 1 excitation-dominated, > 1 inhibition-dominated.")
    input_scale = param.Number(0.5, label="Input scaling", bounds=(0.0, 4.0), step=0.1,
                               doc="Input weights are drawn from U[-s/2, s/2].")
    topology = param.Selector(label="Topology", default="random", objects=TOPOLOGIES,
                              doc="Random Dale's-law graph, or the C. elegans hermaphrodite connectome (302 neurons).")
    adaptation = param.Selector(label="Adaptation", default="off", objects=ADAPTATION_MODES,
                                doc="Local rule: each neuron's inhibition moves its rate toward its target. "
                                    "One-step: inhibition set once so the targets are a fixed point.")
    targets = param.Selector(label="Target rates", default="uniform", objects=list(TARGET_DISTRIBUTIONS),
                             doc="How target rates rho_i are drawn.")
    target_rate = param.Number(0.2, label="Target rate (homogeneous)", bounds=(0.01, 0.99), step=0.01,
                               doc="The target rate when homogeneous.")
    target_low = param.Number(0.05, label="Lowest target", bounds=(0.01, 0.99), step=0.01,
                              doc="Lowest target rate.")
    target_high = param.Number(0.5, label="Highest target", bounds=(0.01, 0.99), step=0.01,
                               doc="Highest target rate.")
    seed = param.Integer(0, label="Seed", bounds=(0, 2**31 - 1),
                         doc="Seed of the network, targets and input.")

    # --- the live view --------------------------------------------------------------------
    window = param.Integer(200, label="Window (steps)", bounds=(20, 2000),
                           doc="Steps shown in the live views.")
    neuron = param.Integer(0, label="Neuron shown", bounds=(0, 999),
                           doc="Neuron whose input currents are shown.")
    speed = param.Integer(0, label="Speed limit (steps/s)", bounds=(0, 100_000),
                          doc="Steps per second (0: as fast as the machine goes).")
    frame_rate = param.Number(12.0, label="Frames per second", bounds=(1.0, 30.0),
                              doc="Live view updates per second.")

    # --- task and sweep -------------------------------------------------------------------
    task = param.Selector(label="Task", default="memory capacity", objects=list(TASK_KEYS),
                          doc="Benchmark task of the readout.")
    sweep_balances = param.List(label="Balances g", default=[0.5, 1.0, 1.5, 2.0], item_type=(int, float),
                                doc="Balance values g of the sweep.")
    sweep_seeds = param.Integer(5, label="Seeds", bounds=(1, 20),
                                doc="Seeds (networks) per point of the sweep.")
    sweep_conditions = param.ListSelector(label="Conditions", default=["static", "adaptive"], objects=list(CONDITIONS),
                                          doc="Static g, and/or the local rule adapting from g.")
    sweep_workers = param.Integer(2, label="Workers", bounds=(1, 8), doc="Dask worker processes of a sweep.")

    # --- results (read-only) --------------------------------------------------------------
    snapshot = param.ClassSelector(class_=LiveSnapshot, default=None, allow_None=True, constant=True,
                                   doc="The live window, published a few times a second.")
    regime = param.String("", constant=True, doc="silent / saturated / period-2 oscillation / asynchronous.")
    spectrum = param.ClassSelector(class_=Spectrum, default=None, allow_None=True, constant=True)
    task_result = param.ClassSelector(class_=TaskResult, default=None, allow_None=True, constant=True)
    sweep_table = param.DataFrame(default=pd.DataFrame(columns=COLUMNS), constant=True,
                                  doc="One row per (seed, balance, adaptive, task).")
    sweep_summary = param.DataFrame(default=None, allow_None=True, constant=True)
    sweep_regimes = param.DataFrame(default=None, allow_None=True, constant=True)
    message = param.String("", constant=True, doc="What just happened, in words.")

    def __init__(self, **params):
        super().__init__(**params)
        # progress twice a second: the badge shows the step count, the status line need not
        self.live = BackgroundTask(name="reservoir-live", publish_interval=0.5)
        self.sweep = BackgroundTask(name="reservoir-sweep")
        self._handover: LiveHandover | None = None   # the live run, and where it is stepped
        self._steps_counted = 0     # the live task's progress, in simulated steps
        self._sweep_job: SweepJob | None = None
        self._reverting = False
        self._build()
        self.param.watch(self._on_structure, STRUCTURE)
        self.param.watch(self._on_live_parameter, LIVE)
        self.param.watch(self._on_display, DISPLAY)
        self.param.watch(self._on_window, ["window"])

    # --- engine objects -------------------------------------------------------------------
    @property
    def reservoir(self) -> Reservoir:
        """The network; while the live run steps in its worker, as of the latest frame."""
        return self._handover.run.reservoir

    def reservoir_params(self, seed: int | None = None) -> ReservoirParams:
        n = self.n
        if self.topology == "random" and self.in_degree >= n:
            raise InvalidInputError(f"the in-degree ({self.in_degree}) must be smaller than N ({n})")
        return ReservoirParams(n=n, frac_excitatory=self.frac_excitatory, in_degree=min(self.in_degree, n - 1),
                               gain=self.gain, input_scale=self.input_scale, balance=self.balance,
                               seed=self.seed if seed is None else seed)

    def adaptation_params(self) -> AdaptationParams:
        if self.target_low > self.target_high:
            raise InvalidInputError(f"the lowest target rate ({self.target_low}) is above the highest ({self.target_high})")
        return AdaptationParams(targets=TARGET_DISTRIBUTIONS[self.targets], target_rate=self.target_rate,
                                target_low=self.target_low, target_high=self.target_high)

    def _build(self) -> None:
        """A fresh network at rest from the current parameters (the previous one is kept on error)."""
        params, adaptation = self.reservoir_params(), self.adaptation_params()
        topology = celegans(params) if self.topology == "C. elegans" else random_ei(params)
        if topology.n != params.n:   # the connectome fixes N
            params = params.with_(n=topology.n, in_degree=min(params.in_degree, topology.n - 1))
        reservoir = Reservoir(params, adaptation=adaptation, topology=topology)
        set_live_parameters(reservoir, self.balance, self.gain, self.adaptation)
        run = LiveRun(reservoir, self.window, input_seed=params.seed + 2)
        if self._handover is None:
            self._handover = LiveHandover(run, self._show)
        else:
            self._handover.replace(run)
        self._publish_frame()

    # --- parameter changes ----------------------------------------------------------------
    def _on_structure(self, *events) -> None:
        """Rebuild the network; on bad values put the parameters back and keep the old network."""
        if self._reverting:
            return
        try:
            self._build()
        except InvalidInputError:
            self._reverting = True
            try:
                self.param.update({event.name: event.old for event in events})
            finally:
                self._reverting = False
            raise
        self._set(message="network rebuilt from the new parameters")

    def _on_window(self, *_events) -> None:
        with self._handover.lock:
            self._handover.run.resize_window(self.window)
            self._handover.tell(window=self.window)
        self._publish_frame()

    def _on_live_parameter(self, *_events) -> None:
        """Balance, gain and adaptation act on the running network, keeping its activity."""
        with self._handover.lock:
            set_live_parameters(self.reservoir, self.balance, self.gain, self.adaptation)
            self._handover.tell(balance=self.balance, gain=self.gain, adaptation=self.adaptation)
        self._set(message=f"g = {self.balance:g}, gain = {self.gain:g}, adaptation {self.adaptation}")

    def _on_display(self, *events) -> None:
        self._handover.tell(**self._display())
        if not self._handover.away and any(event.name == "neuron" for event in events):
            self._publish_frame()

    def _display(self) -> dict:
        return dict(neuron=self.neuron, frame_rate=self.frame_rate, speed=self.speed)

    # --- the live run ---------------------------------------------------------------------
    # While it runs, the network steps in a worker process (see handover.py); the live task
    # takes its frames. Paused or stopped, the run is stepped here.
    def run(self) -> None:
        """Start the live simulation (or resume it when paused)."""
        if self.live.state == "running" or (self.live.is_alive and self.live.state != "paused"):
            return
        self._handover.hand_over()
        if self.live.state == "paused":
            self.live.resume()
        else:
            self._steps_counted = self.reservoir.step_count
            self.live.start(self._pump, on_finish=self._on_live_finished)

    @property
    def running(self) -> bool:
        return self.live.state == "running"

    def pause(self) -> None:
        if self.live.state == "running":
            self.live.pause()
            self._handover.bring_home()
            self._publish_frame()

    def step(self) -> int:
        """Advance one chunk by hand (when paused or stopped) and show it."""
        if self._handover.away:
            return 0
        with self._handover.lock:
            try:
                done = self._handover.run.advance(CHUNK_STEPS)
            except RunawayActivityError:
                self._publish_frame(regime="runaway")
                raise
        self._publish_frame()
        return done

    def reset(self) -> None:
        """Stop the run and rebuild the network at rest."""
        self.live.stop()
        self._build()
        with param.edit_constant(self):
            self.task_result = None
        self._set(message="reset")

    def _pump(self) -> int:
        """The live task's step function: the worker's newest frame; steps simulated since the last."""
        if not self._handover.pump(self._display(), PUMP_SECONDS):
            self.live.stop(timeout=0)   # the room closed, or the server exits
            return 0
        step = self.reservoir.step_count
        done, self._steps_counted = max(0, step - self._steps_counted), step
        return done

    def _on_live_finished(self, outcome: str) -> None:
        if outcome == "stopped":
            self._handover.bring_home()
            self._publish_frame()
        else:   # failed: runaway activity (its frame is shown), or the worker died
            self._handover.forget_worker_run()

    def _publish_frame(self, regime: str | None = None) -> None:
        with self._handover.lock:
            snapshot = self._handover.run.snapshot(self.neuron, regime)
        self._show(snapshot)

    def _show(self, snapshot: LiveSnapshot) -> None:
        with param.edit_constant(self):
            self.param.update(snapshot=snapshot, regime=snapshot.regime)

    # --- analyses -------------------------------------------------------------------------
    def compute_spectrum(self) -> Spectrum:
        """Eigenvalues of W and of the Jacobian now (O(N^3): on request, not per frame)."""
        with self._handover.lock:
            result = spectrum(self.reservoir)
        with param.edit_constant(self):
            self.spectrum = result
        return result

    def train(self) -> TaskResult:
        """Train a ridge readout of the network as it is now on the chosen task."""
        with self._handover.lock:
            result = train_readout(self.reservoir, self.task, self.seed, self.balance, self.adaptation)
        with param.edit_constant(self):
            self.task_result = result
        self._set(message=f"{result.task}: {result.metric} = {result.value:.3g}")
        return result

    # --- sweeps ---------------------------------------------------------------------------
    def start_sweep(self, split=None, n_adapt: int = 2000, scheduler=None) -> None:
        """Score every (g, condition, seed) on the chosen task in the background."""
        balances = [float(g) for g in self.sweep_balances]
        if not balances:
            raise InvalidInputError("give at least one balance value g for the sweep")
        low, high = self.param.balance.bounds
        bad = [g for g in balances if not (low <= g <= high)]
        if bad:
            raise InvalidInputError(f"sweep balances must lie in [{low}, {high}], got {bad}")
        if not self.sweep_conditions:
            raise InvalidInputError("choose static, adaptive or both for the sweep")
        if self.topology != "random":
            raise InvalidInputError("sweeps draw a random network per seed; switch the topology to random")
        job = SweepJob(self.reservoir_params(), sorted(set(balances)), list(self.sweep_conditions),
                       range(self.seed, self.seed + self.sweep_seeds), TASK_KEYS[self.task],
                       self.adaptation_params(), n_adapt=n_adapt, split=split, n_workers=self.sweep_workers,
                       scheduler=scheduler)
        self.sweep.stop()
        self._sweep_job = job
        with param.edit_constant(self):
            self.param.update(sweep_table=job.table, sweep_summary=None, sweep_regimes=None)
        self.sweep.start(lambda: self._sweep_step(job), total_steps=job.total_steps,
                         on_finish=lambda outcome: self._sweep_ended(job, outcome))

    def _sweep_step(self, job: SweepJob) -> int | None:
        """Rows appear as seeds finish; the plots are drawn once, when the sweep ends."""
        done = job.step()
        if job.complete:   # the results are in place before the task says 'finished'
            self._finish_sweep(job)
        elif done and len(job.rows) != len(self.sweep_table):
            with param.edit_constant(self):
                self.sweep_table = job.table
        return done

    def _sweep_ended(self, job: SweepJob, outcome: str) -> None:
        if outcome != "finished":   # stopped or failed: what came in so far
            self._finish_sweep(job)

    def _finish_sweep(self, job: SweepJob) -> None:
        """Summarise the rows there are, then shut the cluster down."""
        table = job.table
        with param.edit_constant(self):
            self.param.update(sweep_table=table, sweep_regimes=job.regimes,
                              sweep_summary=summarise(table) if len(table) else None)
        job.close()

    def stop_sweep(self) -> None:
        self.sweep.stop(timeout=0)

    def sweep_csv(self) -> bytes:
        """The sweep's table as CSV (what the download button serves)."""
        return self.sweep_table.to_csv(index=False).encode()

    # --- housekeeping ---------------------------------------------------------------------
    def close(self) -> None:
        """Stop the live run, its worker process and any sweep (the session is over)."""
        self.live.stop(timeout=0)
        self.sweep.stop(timeout=0)
        self._handover.close()

    def _set(self, **values) -> None:
        with param.edit_constant(self):
            self.param.update(**values)
