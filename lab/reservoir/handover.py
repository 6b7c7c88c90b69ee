"""Where the room's live run is stepped: in a worker process while it runs, in the room otherwise.

``LiveHandover`` holds the room's ``LiveRun``, built by the room's ``build`` the first time it
is needed (opening the room builds nothing). ``hand_over()`` makes it the worker's; the live
task's ``pump()`` then starts the worker if there is none (``lab.worker``; the stepping itself is
``lab.reservoir.stepper``), gives it the run and takes its newest frame, keeping
``run.reservoir`` in step with each. ``bring_home()`` (pause, stop) takes the run back exactly
where it stopped. Every call that changes what the worker shows counts a generation; frames
made before the latest one are dropped. ``lock`` guards the run for the room too.
"""
from __future__ import annotations

import threading
from typing import Callable

from engines.errors import DivergenceError
from lab.reservoir.live import LiveRun, LiveSnapshot
from lab.reservoir.stepper import LiveStepper
from lab.rooms import worker_preload
from lab.worker import Worker, WorkerError


class LiveHandover:
    """The live run, handed to a worker process while it runs."""

    def __init__(self, build: Callable[[], LiveRun], show: Callable[[LiveSnapshot], None]):
        self.lock = threading.RLock()
        self._build = build
        self._run: LiveRun | None = None
        self._show = show                    # publishes a frame (called without the lock)
        self._worker: Worker[LiveStepper] | None = None   # started by the first pump
        self._away = False                   # the run is the worker's (handed over, or about to be)
        self._handed = False                 # the worker has it and steps it
        self._generation = 0
        self._closed = False

    @property
    def run(self) -> LiveRun:
        """The run (built now if it never was); while away, as of the latest frame."""
        with self.lock:
            if self._run is None:
                self._run = self._build()
            return self._run

    @property
    def built(self) -> bool:
        return self._run is not None

    @property
    def away(self) -> bool:
        return self._away

    def replace(self, run: LiveRun) -> None:
        """A new network; if the run is away, the next pump hands this one over instead."""
        with self.lock:
            self._run = run
            if self._away:
                self._generation += 1
                self._handed = False

    def hand_over(self) -> None:
        with self.lock:
            self._away, self._handed = True, False

    def tell(self, **changes) -> None:
        """A change the worker's run must follow now (see LiveStepper.update)."""
        with self.lock:
            if self._handed:
                self._generation += 1
                try:
                    self._worker.remote.update(changes, self._generation)
                except WorkerError:   # it died: the live task reports it
                    pass

    def pump(self, settings: dict, timeout: float) -> bool:
        """The live task's step: hand the run over if needed, then show the worker's newest frame
        (waiting up to ``timeout``). False when the worker has gone because the room closed or
        the server is exiting; DivergenceError when the activity ran away."""
        try:
            stepper = self._live_worker().remote
            with self.lock:
                if self._away and not self._handed:
                    self._generation += 1
                    stepper.run(self.run, settings, self._generation)
                    self._handed = True
            message = stepper.next_message(timeout)
        except WorkerError:
            if self._closed or not threading.main_thread().is_alive():   # the main thread ends at exit
                return False
            raise
        if message is not None:
            self._receive(*message)
        return True

    def bring_home(self) -> None:
        """The worker stops stepping and hands the run back; it is stepped in the room again
        (and the room shows it)."""
        with self.lock:
            handed, worker = self._handed, self._worker
            self._away = self._handed = False
            if not handed or worker is None:
                return
            self._generation += 1
            try:
                self._run = worker.remote.pause(self._generation)
            except WorkerError:   # it died: the run stays as of the latest frame
                pass

    def forget_worker_run(self) -> None:
        """The live task failed (the worker died or stopped on runaway activity): the run is the
        room's again, as of the latest frame."""
        with self.lock:
            self._away = self._handed = False

    def close(self) -> None:
        self._closed = True
        if self._worker is not None:
            self._worker.close()

    def _live_worker(self) -> Worker[LiveStepper]:
        """The worker process, started in the live task's thread (Run never waits for it)."""
        if self._worker is None or not self._worker.alive:
            worker = Worker(LiveStepper, preload=worker_preload(), name="reservoir-simulation")
            worker.start()
            if self._closed:   # closed while it started
                worker.close()
                raise WorkerError("the room is closed")
            self._worker = worker
        return self._worker

    def _receive(self, kind: str, generation: int, payload) -> None:
        """A frame of the worker, or the run handed back after runaway activity."""
        with self.lock:
            if generation != self._generation:   # made before the latest change
                return
            if kind == "frame":
                snapshot, state = payload
                self.run.reservoir.restore(state)
            else:
                message, self._run, snapshot = payload
                self._away = self._handed = False
        self._show(snapshot)
        if kind == "failed":
            raise DivergenceError(message)
