"""The reservoir room's model: the live run and the analyses (settings: settings.py; sweeps: sweeps.py).

Nothing is built when the room opens: the network is built the first time it is needed (Run,
Step, an analysis), and again when a structural setting changes. While it runs, it steps in a
worker process (handover.py, stepper.py) and the ``live`` task takes its frames, publishing
``snapshot`` and ``regime``. Live settings reach the running network through their engine
methods (settings.py). The analyses run in the ``analysis`` task, so the page stays responsive.
"""
from __future__ import annotations

import copy
import threading

import param

from engines.errors import InvalidInputError
from engines.reservoir.analysis import Spectrum, TaskResult, linearisation, spectrum_of, train_readout
from engines.reservoir.simulator import Reservoir, RunawayActivityError
from engines.reservoir.topology import celegans, random_ei
from lab.reservoir.handover import LiveHandover
from lab.reservoir.live import LiveRun, LiveSnapshot
from lab.reservoir.settings import LIVE, with_role
from lab.reservoir.sweeps import ReservoirSweeps
from lab.tasks import BackgroundTask

CHUNK_STEPS = 25          # steps of one press of Step
PUMP_SECONDS = 0.1        # the live task waits this long for a frame, so stopping is prompt


class ReservoirRoom(ReservoirSweeps):
    """An E/I rate reservoir a student runs live, adapts, scores on a task and sweeps over g."""

    snapshot = param.ClassSelector(class_=LiveSnapshot, default=None, allow_None=True, constant=True,
                                   doc="The live window, published a few times a second.")
    regime = param.String("", constant=True, doc="silent / saturated / period-2 oscillation / asynchronous.")
    spectrum = param.ClassSelector(class_=Spectrum, default=None, allow_None=True, constant=True)
    task_result = param.ClassSelector(class_=TaskResult, default=None, allow_None=True, constant=True)
    analysing = param.Selector(default="", objects=["", "spectrum", "train"], constant=True,
                               doc="The analysis being computed in the background, if any.")
    message = param.String("", constant=True, doc="What just happened, in words.")

    def __init__(self, **params):
        super().__init__(**params)
        self._handover = self.owns(LiveHandover(self._new_run, self._show))   # closed after the tasks
        # progress twice a second; the step count is the snapshot's (one number on the page)
        self.live = self.owns(BackgroundTask(name="reservoir-live", kind="live", publish_interval=0.5))
        self.analysis = self.owns(BackgroundTask(name="reservoir-analysis"))
        self._steps_counted = 0     # the live task's progress, in simulated steps
        self._next_analysis: str | None = None   # asked for while another one ran
        self._analysis_lock = threading.Lock()
        self._reverting = False
        self.param.watch(self._on_structure, with_role(type(self), "structure"))
        self.param.watch(self._on_live_setting, list(LIVE))
        self.param.watch(self._on_display, with_role(type(self), "display"))

    # --- the network ----------------------------------------------------------------------
    @property
    def reservoir(self) -> Reservoir:
        """The network (built now if it never was); while it runs in its worker, as of the
        latest frame."""
        return self._handover.run.reservoir

    @property
    def steps(self) -> int:
        """Steps simulated so far (as of the latest frame while running)."""
        return self._handover.run.reservoir.step_count if self._handover.built else 0

    def _new_run(self) -> LiveRun:
        """A network at rest from the current settings, the live settings applied."""
        params, adaptation = self.reservoir_params(), self.adaptation_params()
        topology = celegans(params) if self.topology == "C. elegans" else random_ei(params)
        if topology.n != params.n:   # the connectome fixes N
            params = params.with_(n=topology.n, in_degree=min(params.in_degree, topology.n - 1))
        run = LiveRun(Reservoir(params, adaptation=adaptation, topology=topology), self.window,
                      input_seed=params.seed + 2)
        run.apply(self._live_calls(LIVE))
        return run

    def _live_calls(self, names) -> list[tuple]:
        return [(LIVE[name], getattr(self, name)) for name in names]

    # --- setting changes --------------------------------------------------------------------
    def _on_structure(self, *events) -> None:
        """A new network (if one was built); bad values put the settings back and keep the old one."""
        if self._reverting:
            return
        try:
            self.reservoir_params(), self.adaptation_params()
            if self._handover.built:
                self._handover.replace(self._new_run())
        except InvalidInputError:
            self._reverting = True
            try:
                self.param.update({event.name: event.old for event in events})
            finally:
                self._reverting = False
            raise
        if self._handover.built:
            self._publish_frame()
            self._publish(message="network rebuilt from the new settings")

    def _on_live_setting(self, *events) -> None:
        """Balance, gain, adaptation ...: the running network follows, keeping its activity."""
        calls = self._live_calls(event.name for event in events)
        with self._handover.lock:
            if self._handover.built:
                self._handover.run.apply(calls)
            self._handover.tell(live=calls)
        self._publish(message=", ".join(f"{self.param[e.name].label}: {e.new}" for e in events))

    def _on_display(self, *events) -> None:
        changed = {event.name: event.new for event in events}
        with self._handover.lock:
            if "window" in changed and self._handover.built:
                self._handover.run.resize_window(self.window)
            self._handover.tell(**changed)
        if self._handover.built and not self._handover.away and changed.keys() & {"window", "neuron"}:
            self._publish_frame()

    def _display(self) -> dict:
        return {name: getattr(self, name) for name in with_role(type(self), "display") if name != "window"}

    # --- the live run ---------------------------------------------------------------------
    # While it runs, the network steps in a worker process (see handover.py); the live task
    # takes its frames. Paused or stopped, the run is stepped here.
    def run(self) -> None:
        """Start the live simulation (or resume it when paused); the network is built (and the
        worker started) in the live task, so the click returns at once."""
        if self.live.state == "running" or (self.live.is_alive and self.live.state != "paused"):
            return
        self._handover.hand_over()
        if self.live.state == "paused":
            self.live.resume()
        else:
            self._steps_counted = self.steps
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
        """Stop the run and build the network afresh, at rest."""
        self.live.stop()
        self._handover.replace(self._new_run())
        self._publish_frame()
        self._publish(task_result=None, spectrum=None, message="reset")

    def _pump(self) -> int:
        """The live task's step function: the worker's newest frame; steps simulated since the last."""
        if not self._handover.pump(self._display(), PUMP_SECONDS):
            self.live.stop(timeout=0)   # the room closed, or the server exits
            return 0
        done, self._steps_counted = max(0, self.steps - self._steps_counted), self.steps
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
        self._publish(snapshot=snapshot, regime=snapshot.regime)

    # --- analyses -------------------------------------------------------------------------
    def compute_spectrum(self) -> Spectrum:
        """Eigenvalues of W and of the Jacobian at the latest state (O(N^3): on request)."""
        with self._handover.lock:   # copies of the matrices; the eigenvalues without the lock
            matrices = linearisation(self.reservoir)
        result = spectrum_of(*matrices)
        self._publish(spectrum=result)
        return result

    def train(self) -> TaskResult:
        """Train a ridge readout of the network as it is now on the chosen task."""
        with self._handover.lock:   # a copy: the live run carries on meanwhile
            reservoir = copy.deepcopy(self.reservoir)
        result = train_readout(reservoir, self.task_key, self.seed)
        self._publish(task_result=result, message=f"{result.task}: {result.metric} = {result.value:.3g}")
        return result

    def request(self, analysis: str) -> None:
        """Run ``"spectrum"`` or ``"train"`` in the analysis task (the page stays responsive); one
        asked for while another runs starts when it ends."""
        with self._analysis_lock:
            if self.analysing:
                self._next_analysis = analysis
                return
            self._publish(analysing=analysis)
        self._start_analysis(analysis)

    def _start_analysis(self, analysis: str) -> None:
        work = {"spectrum": self.compute_spectrum, "train": self.train}[analysis]

        def once() -> None:
            work()   # returning None ends the task
        self.analysis.start(once, on_finish=self._analysis_ended)

    def _analysis_ended(self, _outcome: str) -> None:
        with self._analysis_lock:
            waiting, self._next_analysis = self._next_analysis, None
            self._publish(analysing=waiting or "")
        if waiting:
            self._start_analysis(waiting)
