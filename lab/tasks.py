"""Long work for a room: a background thread with progress, pause, resume and stop.

Every room runs its training, simulation or sweep through ``BackgroundTask`` so that the lab
behaves the same everywhere: progress is a set of read-only parameters a view can watch, pause
and stop take effect between steps, errors are kept (and logged) instead of killing the
session, and the task stops when the browser session that started it ends.

A task declares what kind of work it runs, and the lab-wide scheduler (lab/scheduler.py) gives
it turns: ``kind="live"`` (training, a simulation: open-ended) takes round-robin slices of the
server's slots, ``kind="finite"`` (a sweep, a factorisation) waits in a queue first. Its place
in the queue (``queue_place``, ``queue_wait_s``) and its share of a core (``share``) are
read-only parameters too; ``views/progress.py`` shows them.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Callable

import param

from engines.errors import EngineError
from lab import scheduler as scheduling
from lab.room import publish
from lab.scheduler import KINDS, LIVE, Standing
from lab.sessions import on_session_end

log = logging.getLogger("lab.tasks")

# A step function does one chunk of work and returns how many steps it did; it returns
# ``None`` or raises ``StopIteration`` when the work is finished.
StepFunction = Callable[[], "int | None"]

STATES = ["idle", "queued", "running", "paused", "stopped", "finished", "failed"]


class BackgroundTask(param.Parameterized):
    """Runs a step function repeatedly in one daemon thread, in the turns the scheduler gives."""

    kind = param.Selector(default=LIVE, objects=list(KINDS),
                          doc="live: open-ended (training, simulation), takes turns with the other "
                              "live runs; finite: a job of fixed size (a sweep), waits in the queue.")
    state = param.Selector(default="idle", objects=STATES, constant=True, doc="What the task is doing.")
    steps_done = param.Integer(default=0, constant=True, doc="Steps completed so far.")
    total_steps = param.Integer(default=None, allow_None=True, constant=True, doc="Planned steps, if known.")
    elapsed = param.Number(default=0.0, constant=True, doc="Seconds spent running (pauses excluded).")
    error = param.String(default="", constant=True, doc="Message of the error that ended the task.")
    queue_place = param.Integer(default=None, allow_None=True, constant=True,
                                doc="Place in the queue of finite jobs (1: next), None when not queued.")
    queue_wait_s = param.Number(default=None, allow_None=True, constant=True,
                                doc="Estimated seconds until a queued job starts, when known.")
    share = param.Parameter(default=None, constant=True,
                            doc="The share of one core the work gets while others work too (a Fraction).")

    # Progress parameters are published at most this often, so that a fast step function
    # does not flood the browser with updates.
    publish_interval = param.Number(default=0.2, bounds=(0.0, None))

    def __init__(self, scheduler: scheduling.Scheduler | None = None, **params):
        super().__init__(**params)
        self._scheduler = scheduler   # None: the server's (lab.scheduler.shared), at first start
        self._ticket: scheduling.Ticket | None = None
        self._run_token: object | None = None
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._on_finish: Callable[[str], None] | None = None
        _register_with_session(self)

    # ---- actions -------------------------------------------------------------------------
    def start(self, step: StepFunction, total_steps: int | None = None,
              on_finish: Callable[[str], None] | None = None) -> None:
        """Start running ``step`` in the background; a running task is stopped first.

        The task joins the scheduler: a finite job may first wait in the queue ("queued")."""
        self.stop()
        self._stop.clear()
        self._resume.set()
        self._on_finish = on_finish
        self._publish(state="running", steps_done=0, total_steps=total_steps, elapsed=0.0, error="",
                      queue_place=None, queue_wait_s=None, share=None)
        if self._scheduler is None:
            self._scheduler = scheduling.shared()
        self._run_token = token = object()   # news from the scheduler about this run only
        self._ticket = self._scheduler.join(self.kind, self.name, on_change=self._standing_changed(token),
                                            progress=lambda: self.fraction)
        self._thread = threading.Thread(target=self._run, args=(step, self._ticket), daemon=True,
                                        name=f"lab-task-{self.name}")
        self._thread.start()

    def pause(self) -> None:
        if self.state in ("running", "queued"):
            self._resume.clear()
            self._publish(state="paused", queue_place=None, queue_wait_s=None, share=None)
            self._ticket.rest()   # out of the rotation: others get the turns meanwhile

    def resume(self) -> None:
        if self.state == "paused":
            self._publish(state="running")
            self._ticket.wake()   # a finite job goes back to the front of the queue
            self._resume.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Leave the scheduler at once, ask the thread to stop after its current step and wait
        for it (up to ``timeout``)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stop.set()
        self._resume.set()
        self._ticket.leave()
        if thread is not threading.current_thread():
            thread.join(timeout)

    def clear(self) -> None:
        """Stop, and forget the last run's progress (idle, no steps): for a room whose runs were
        discarded, so the status line does not describe work that is no longer there."""
        self.stop()
        self._publish(state="idle", steps_done=0, total_steps=None, elapsed=0.0, error="")

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def fraction(self) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, self.steps_done / self.total_steps)

    # ---- the scheduler's news --------------------------------------------------------------
    def _standing_changed(self, token: object) -> Callable[[Standing], None]:
        def changed(standing: Standing) -> None:
            if token is not self._run_token or self.state not in ("queued", "running"):
                return   # news for a run that has ended, or a paused one
            self._publish(state="queued" if standing.place is not None else "running",
                          queue_place=standing.place, queue_wait_s=standing.wait_s, share=standing.share)
        return changed

    # ---- the thread ----------------------------------------------------------------------
    def _run(self, step: StepFunction, ticket: scheduling.Ticket) -> None:
        done, running_time, last_publish, shown = 0, 0.0, 0.0, 0
        outcome, message = "finished", ""
        interrupted = lambda: self._stop.is_set() or not self._resume.is_set()  # noqa: E731
        scheduling.set_current(ticket)   # workers this thread calls are suspended with the ticket
        try:
            while not self._stop.is_set():
                if not self._resume.is_set():
                    if shown != done:   # paused: the count on show is every step taken, not the last publish's
                        shown = done
                        self._publish(steps_done=done, elapsed=running_time)
                    self._resume.wait(0.1)
                    continue
                if not ticket.wait_turn(interrupted):
                    continue
                started = time.perf_counter()
                try:
                    advanced = step()
                except StopIteration:
                    advanced = None
                running_time += time.perf_counter() - started
                ticket.step_done()
                if advanced is None:
                    break
                done += int(advanced)
                if running_time - last_publish >= self.publish_interval:
                    last_publish, shown = running_time, done
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
        finally:
            ticket.leave()
            scheduling.set_current(None)
        self._publish(state=outcome, steps_done=done, elapsed=running_time, error=message,
                      queue_place=None, queue_wait_s=None, share=None)
        if self._on_finish is not None:
            try:
                self._on_finish(outcome)
            except Exception:
                log.error("on_finish of task %s raised:\n%s", self.name, traceback.format_exc())

    def _publish(self, **values) -> None:
        publish(self, **values)


def _register_with_session(task: BackgroundTask) -> None:
    """Stop the task when the browser session that created it is destroyed."""
    on_session_end(lambda: task.stop(timeout=0))
