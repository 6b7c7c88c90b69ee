"""Long work for a room: a background thread with progress, pause, resume and stop.

Every room runs its training, simulation or sweep through ``BackgroundTask`` so that the lab
behaves the same everywhere: progress is a set of read-only parameters a view can watch, pause
and stop take effect between steps, errors are kept (and logged) instead of killing the
session, and the task stops when the browser session that started it ends.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Callable

import param

from engines.errors import EngineError
from lab.sessions import on_session_end

log = logging.getLogger("lab.tasks")

# A step function does one chunk of work and returns how many steps it did; it returns
# ``None`` or raises ``StopIteration`` when the work is finished.
StepFunction = Callable[[], "int | None"]

STATES = ["idle", "running", "paused", "stopped", "finished", "failed"]


class BackgroundTask(param.Parameterized):
    """Runs a step function repeatedly in one daemon thread."""

    state = param.Selector(default="idle", objects=STATES, constant=True, doc="What the task is doing.")
    steps_done = param.Integer(default=0, constant=True, doc="Steps completed so far.")
    total_steps = param.Integer(default=None, allow_None=True, constant=True, doc="Planned steps, if known.")
    elapsed = param.Number(default=0.0, constant=True, doc="Seconds spent running (pauses excluded).")
    error = param.String(default="", constant=True, doc="Message of the error that ended the task.")

    # Progress parameters are published at most this often, so that a fast step function
    # does not flood the browser with updates.
    publish_interval = param.Number(default=0.2, bounds=(0.0, None))

    def __init__(self, **params):
        super().__init__(**params)
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._on_finish: Callable[[str], None] | None = None
        _register_with_session(self)

    # ---- actions -------------------------------------------------------------------------
    def start(self, step: StepFunction, total_steps: int | None = None,
              on_finish: Callable[[str], None] | None = None) -> None:
        """Start running ``step`` in the background; a running task is stopped first."""
        self.stop()
        self._stop.clear()
        self._resume.set()
        self._on_finish = on_finish
        self._publish(state="running", steps_done=0, total_steps=total_steps, elapsed=0.0, error="")
        self._thread = threading.Thread(target=self._run, args=(step,), daemon=True,
                                        name=f"lab-task-{self.name}")
        self._thread.start()

    def pause(self) -> None:
        if self.state == "running":
            self._resume.clear()
            self._publish(state="paused")

    def resume(self) -> None:
        if self.state == "paused":
            self._publish(state="running")
            self._resume.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop after its current step and wait for it (up to ``timeout``)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stop.set()
        self._resume.set()
        if thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def fraction(self) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, self.steps_done / self.total_steps)

    # ---- the thread ----------------------------------------------------------------------
    def _run(self, step: StepFunction) -> None:
        done, running_time, last_publish = 0, 0.0, 0.0
        outcome, message = "finished", ""
        try:
            while not self._stop.is_set():
                if not self._resume.is_set():
                    self._resume.wait(0.1)
                    continue
                started = time.perf_counter()
                try:
                    advanced = step()
                except StopIteration:
                    advanced = None
                running_time += time.perf_counter() - started
                if advanced is None:
                    break
                done += int(advanced)
                if running_time - last_publish >= self.publish_interval:
                    last_publish = running_time
                    self._publish(steps_done=done, elapsed=running_time)
                if self.total_steps is not None and done >= self.total_steps:
                    break
            else:
                outcome = "stopped"
        except EngineError as err:  # bad input or divergence: the user's message, no traceback
            outcome, message = "failed", str(err)
            log.warning("task %s failed: %s", self.name, err)
        except Exception as err:  # a bug: keep the session alive, put the traceback in the log
            outcome, message = "failed", f"{type(err).__name__}: {err}"
            log.error("task %s crashed:\n%s", self.name, traceback.format_exc())
        self._publish(state=outcome, steps_done=done, elapsed=running_time, error=message)
        if self._on_finish is not None:
            try:
                self._on_finish(outcome)
            except Exception:
                log.error("on_finish of task %s raised:\n%s", self.name, traceback.format_exc())

    def _publish(self, **values) -> None:
        with param.edit_constant(self):
            self.param.update(**values)


def _register_with_session(task: BackgroundTask) -> None:
    """Stop the task when the browser session that created it is destroyed."""
    on_session_end(lambda: task.stop(timeout=0))
