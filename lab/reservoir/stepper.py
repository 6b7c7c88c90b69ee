"""The live run's stepping, meant to live in a worker process (``lab.worker``).

In the web server's process the simulation had to share the interpreter lock with the thread
that builds and sends every frame; in a worker process it shares nothing. There a
``LiveStepper`` steps the run in a thread of its own, in chunks that end when the next frame is
due, and keeps the newest frame for the room to take (an older one not yet taken is dropped).
The room's calls (run, update, pause) are carried out between two chunks, and every message
carries the generation of the room's latest call, so the room can drop frames made before it.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

from engines.reservoir.simulator import RunawayActivityError
from lab.reservoir.live import LiveRun

FIRST_CHUNK_STEPS = 25     # until the stepper has measured its speed
MIN_CHUNK_SECONDS = 0.005
MAX_CHUNK_SECONDS = 0.05   # a call (pause, a new g) is carried out within this
MAX_CHUNK_STEPS = 5000     # bounds the memory of one chunk's rates (steps x N float32)
SETTINGS = dict(neuron=0, frame_rate=12.0, speed=0)   # what frames show, and how fast the run steps


class _Newest:
    """The newest message for the room; taking it empties the slot."""

    def __init__(self):
        self._ready = threading.Condition()
        self._message = None

    def put(self, message) -> None:
        with self._ready:
            self._message = message
            self._ready.notify_all()

    def take(self, timeout: float):
        with self._ready:
            self._ready.wait_for(lambda: self._message is not None, timeout)
            message, self._message = self._message, None
            return message


class LiveStepper:
    """Steps a LiveRun in its own thread; the room calls ``run``, ``update``, ``pause`` and
    ``next_message``.

    Messages: ("frame", generation, (LiveSnapshot, State)) whenever a frame is due, and
    ("failed", generation, (message, LiveRun, LiveSnapshot)) when the activity ran away.
    """

    def __init__(self):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._newest = _Newest()
        self._run: LiveRun | None = None
        self._running = False
        self._generation = 0
        self._settings = dict(SETTINGS)
        self._steps_per_second: float | None = None
        self._next_frame = 0.0
        threading.Thread(target=self._loop, daemon=True, name="reservoir-stepper").start()

    # --- the room's calls (carried out by the stepping thread, between chunks) ---------------
    def run(self, run: LiveRun, settings: dict, generation: int) -> None:
        """Step this run (it replaces any other) until paused."""
        self._call(self._start, run, settings, generation)

    def update(self, changes: dict, generation: int) -> None:
        """``live``: engine calls [(method, value), ...] on the run's reservoir (live settings);
        ``window``: the window's length; neuron, frame_rate, speed: see SETTINGS."""
        self._call(self._change, changes, generation)

    def pause(self, generation: int) -> LiveRun | None:
        """Stop stepping; the run, exactly where it stopped."""
        return self._call(self._stop, generation)

    def next_message(self, timeout: float):
        """The newest frame (or the failure) not taken yet; None if none came within ``timeout``."""
        return self._newest.take(timeout)

    def _call(self, action, *args):
        done = Future()
        self._calls.put((action, args, done))
        return done.result()

    # --- the stepping thread ---------------------------------------------------------------
    def _loop(self) -> None:
        wait = None   # block while paused; the speed limit's pause while running
        while True:
            try:
                action, args, done = self._calls.get(timeout=wait)
            except queue.Empty:
                wait = self._step() if self._running else None
                continue
            try:
                done.set_result(action(*args))
            except Exception as error:   # the room sees it raised by its call
                done.set_exception(error)
            wait = 0.0 if self._running else None

    def _start(self, run: LiveRun, settings: dict, generation: int) -> None:
        self._run, self._running, self._generation = run, True, generation
        self._settings.update(settings)
        self._next_frame = time.perf_counter()

    def _change(self, changes: dict, generation: int) -> None:
        self._generation = generation
        if self._run is None:
            return
        self._run.apply(changes.get("live", ()))
        if "window" in changes:
            self._run.resize_window(changes["window"])
        self._settings.update({key: value for key, value in changes.items() if key in SETTINGS})
        self._next_frame = time.perf_counter()   # show the change at once

    def _stop(self, generation: int) -> LiveRun | None:
        self._running, self._generation = False, generation
        return self._run

    def _step(self) -> float:
        """One chunk, then a frame if one is due; the seconds the speed limit asks to wait."""
        started = time.perf_counter()
        speed = self._settings["speed"]
        horizon = min(MAX_CHUNK_SECONDS, max(self._next_frame - started, MIN_CHUNK_SECONDS))
        rate = self._steps_per_second
        steps = FIRST_CHUNK_STEPS if rate is None else int(rate * horizon)
        if speed:
            steps = min(steps, int(speed * horizon))
        steps = max(1, min(steps, MAX_CHUNK_STEPS))
        try:
            self._run.advance(steps)
        except RunawayActivityError as error:
            self._running = False
            snapshot = self._run.snapshot(self._settings["neuron"], regime="runaway")
            self._newest.put(("failed", self._generation, (str(error), self._run, snapshot)))
            return 0.0
        took = max(time.perf_counter() - started, 1e-6)
        self._steps_per_second = steps / took if rate is None else 0.5 * (rate + steps / took)
        now = time.perf_counter()
        if now >= self._next_frame:   # frames on a fixed grid, so chunk lengths do not lower the rate
            snapshot = self._run.snapshot(self._settings["neuron"])
            self._newest.put(("frame", self._generation, (snapshot, self._run.reservoir.snapshot())))
            self._next_frame = max(self._next_frame + 1.0 / self._settings["frame_rate"], now)
        return max(0.0, steps / speed - (time.perf_counter() - started)) if speed else 0.0
