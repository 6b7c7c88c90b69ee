"""The lab-wide scheduler: heavy work from every browser session shares a set number of slots.

Why: thirty students pressing Train on a two-core machine would otherwise start thirty runs that
each get a sliver of a core while the web server starves. Here at most ``slots`` pieces of work
compute at once (lab.settings: NEURAL_LAB_SLOTS, default cores - 1, at least 1):

- Live runs (training, simulation: open-ended) all stay in a round-robin rotation and take the
  slots in turns of ``slice_s`` seconds (NEURAL_LAB_SLICE_S), so every student sees their model
  learn, more slowly when many work; ``share`` says how much ("1/12 of a core").
- Finite jobs (sweeps, factorisations, rank searches) wait in a first-come queue; at most
  ``slots`` of them are in the rotation at once and the next joins by itself when one ends.
  ``place`` and ``wait_s`` tell its owner where it stands and roughly when it starts.
- A paused run leaves the rotation (a paused finite job goes back to the front of the queue and
  lets the next one in); a stopped run, or one whose browser session closed, leaves at once.

Turns are taken cooperatively, between steps: a ``BackgroundTask`` (lab/tasks.py) waits for its
turn before each step and offers its slot after a step once its slice is over. Work that
computes by itself in a worker process between steps (the reservoir's live stepper) is
suspended while it waits for its turn: workers called from a task's thread are attached to its
ticket (``attach``) and stopped and continued with it (lab/worker.py).
"""
from __future__ import annotations

import heapq
import statistics
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

LIVE, FINITE = "live", "finite"
KINDS = (LIVE, FINITE)
QUEUED, WAITING, HOLDING, RESTING, GONE = "queued", "waiting", "holding", "resting", "gone"

_local = threading.local()


@dataclass(frozen=True)
class Standing:
    """Where a ticket stands, as its owner shows it."""
    place: int | None        # 1-based place in the finite queue; None once in the rotation
    wait_s: float | None     # estimated seconds until a queued job starts (None: not known yet)
    share: Fraction | None   # share of one core while in the rotation

    def describe(self) -> str:
        if self.place is not None:
            when = f", starts in ~{self.wait_s:.0f} s" if self.wait_s is not None else ""
            return f"queued: {_ordinal(self.place)} in line{when}"
        if self.share is None:
            return ""
        if self.share >= 1:
            return "your run has a core of its own"
        return f"your run gets {self.share.numerator}/{self.share.denominator} of a core"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Ticket:
    """One piece of work's membership in the scheduler; made by ``Scheduler.join``."""

    def __init__(self, scheduler: "Scheduler", kind: str, label: str,
                 on_change: Callable[[Standing], None] | None, progress: Callable[[], float | None] | None):
        self.scheduler, self.kind, self.label = scheduler, kind, label
        self.where = QUEUED
        self.on_change, self.progress = on_change, progress
        self.joined_at = time.monotonic()
        self.admitted_at: float | None = None
        self.slice_started = 0.0
        self.workers: weakref.WeakSet = weakref.WeakSet()
        self._announced: Standing | None = None

    # what a BackgroundTask calls
    def wait_turn(self, interrupted: Callable[[], bool]) -> bool:
        return self.scheduler._wait_turn(self, interrupted)

    def step_done(self) -> None:
        self.scheduler._step_done(self)

    def rest(self) -> None:
        self.scheduler._rest(self)

    def wake(self) -> None:
        self.scheduler._wake(self)

    def leave(self) -> None:
        self.scheduler._leave(self)

    @property
    def standing(self) -> Standing:
        with self.scheduler._lock:
            return self.scheduler._standing(self)

    def _suspend(self) -> None:
        for worker in list(self.workers):
            worker.suspend()

    def _continue(self) -> None:
        for worker in list(self.workers):
            worker.resume()


class Scheduler:
    """Slots shared by live runs (round-robin slices) and finite jobs (a first-come queue)."""

    def __init__(self, slots: int, slice_s: float):
        if slots < 1:
            raise ValueError("a scheduler needs at least one slot")
        self.slots, self.slice_s = int(slots), float(slice_s)
        self._lock = threading.Condition()
        self._queue: list[Ticket] = []              # finite jobs not yet in the rotation
        self._waiting: deque[Ticket] = deque()      # in the rotation, waiting for a slot
        self._holding: list[Ticket] = []            # in the rotation, holding a slot
        self._durations: deque[float] = deque(maxlen=20)   # recent finite jobs' seconds in the rotation

    # ---- membership --------------------------------------------------------------------------
    def join(self, kind: str, label: str = "", on_change: Callable[[Standing], None] | None = None,
             progress: Callable[[], float | None] | None = None) -> Ticket:
        """A ticket for new work: a live run enters the rotation, a finite job the queue."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        ticket = Ticket(self, kind, label, on_change, progress)
        with self._lock:
            if kind == FINITE:
                self._queue.append(ticket)
            else:
                self._enter_rotation(ticket)
            self._schedule()
        self._announce()
        return ticket

    def _enter_rotation(self, ticket: Ticket) -> None:
        ticket.where = WAITING
        if ticket.admitted_at is None:
            ticket.admitted_at = time.monotonic()
        self._waiting.append(ticket)
        ticket._suspend()   # its workers wait for its turn too

    def _remove(self, ticket: Ticket) -> None:
        for members in (self._queue, self._holding):
            if ticket in members:
                members.remove(ticket)
        if ticket in self._waiting:
            self._waiting.remove(ticket)

    def _finite_in_rotation(self) -> int:
        return sum(t.kind == FINITE for t in (*self._holding, *self._waiting))

    def _schedule(self) -> None:
        """Let queued finite jobs into the rotation, then hand free slots round (lock held)."""
        while self._queue and self._finite_in_rotation() < self.slots:
            self._enter_rotation(self._queue.pop(0))
        while len(self._holding) < self.slots and self._waiting:
            ticket = self._waiting.popleft()
            ticket.where, ticket.slice_started = HOLDING, time.monotonic()
            self._holding.append(ticket)
            ticket._continue()
        self._lock.notify_all()

    # ---- turns -------------------------------------------------------------------------------
    def _wait_turn(self, ticket: Ticket, interrupted: Callable[[], bool]) -> bool:
        """Block until ``ticket`` holds a slot (True), or ``interrupted()`` or it left (False)."""
        last_estimate = time.monotonic()
        with self._lock:
            while ticket.where != HOLDING:
                if ticket.where == GONE or interrupted():
                    return False
                self._lock.wait(0.1)
                if ticket.where == QUEUED and time.monotonic() - last_estimate > 1.0:
                    last_estimate = time.monotonic()   # the estimate moves as running jobs progress
                    self._lock.release()
                    try:
                        self._announce([ticket])
                    finally:
                        self._lock.acquire()
            return True

    def _step_done(self, ticket: Ticket) -> None:
        """After a step: give the slot to the next in the rotation once this slice is over."""
        with self._lock:
            if (ticket.where == HOLDING and self._waiting
                    and time.monotonic() - ticket.slice_started >= self.slice_s):
                self._holding.remove(ticket)
                self._enter_rotation(ticket)
                self._schedule()

    def _rest(self, ticket: Ticket) -> None:
        """Paused: out of the rotation (a finite job lets the next one in)."""
        with self._lock:
            if ticket.where in (GONE, RESTING):
                return
            self._remove(ticket)
            ticket.where, ticket._announced = RESTING, None   # its owner shows no standing now
            ticket._continue()
            self._schedule()
        self._announce()

    def _wake(self, ticket: Ticket) -> None:
        """Resumed: a live run rejoins the rotation, a finite job the front of the queue."""
        with self._lock:
            if ticket.where != RESTING:
                return
            if ticket.kind == FINITE:
                ticket.where = QUEUED
                self._queue.insert(0, ticket)
                ticket._suspend()
            else:
                self._enter_rotation(ticket)
            self._schedule()
        self._announce()

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.where == GONE:
                return
            if ticket.kind == FINITE and ticket.admitted_at is not None and ticket.where != QUEUED:
                self._durations.append(time.monotonic() - ticket.admitted_at)
            self._remove(ticket)
            ticket.where = GONE
            ticket._continue()
            self._schedule()
        self._announce()

    # ---- what owners see -------------------------------------------------------------------
    def _standing(self, ticket: Ticket) -> Standing:
        if ticket.where == QUEUED:
            place = self._queue.index(ticket) + 1
            wait_s = self._wait_estimate(place)
            if wait_s is not None:   # to 5 s: an owner is told when the estimate really moves
                wait_s = 5.0 * round(wait_s / 5.0)
            return Standing(place, wait_s, None)
        if ticket.where in (WAITING, HOLDING):
            in_rotation = len(self._holding) + len(self._waiting)
            return Standing(None, None, Fraction(self.slots, max(in_rotation, self.slots)))
        return Standing(None, None, None)

    def _wait_estimate(self, place: int) -> float | None:
        """Seconds until the job at ``place`` enters the rotation: each admission place frees when
        its job ends (from its progress so far), then each job ahead takes a typical time."""
        now = time.monotonic()
        running = [t for t in (*self._holding, *self._waiting) if t.kind == FINITE]
        typical = statistics.median(self._durations) if self._durations else None
        free_at = []
        for ticket in running:
            fraction = ticket.progress() if ticket.progress else None
            elapsed = now - (ticket.admitted_at or now)
            if fraction and fraction > 0.02:
                free_at.append(elapsed * (1 - fraction) / fraction)
            elif typical is not None:
                free_at.append(max(typical - elapsed, 0.0))
            else:
                return None
        free_at += [0.0] * (self.slots - len(free_at))
        heapq.heapify(free_at)
        for _ahead in range(place - 1):
            if typical is None:
                return None
            heapq.heappush(free_at, heapq.heappop(free_at) + typical)
        return heapq.heappop(free_at)

    def _announce(self, tickets: list[Ticket] | None = None) -> None:
        """Tell every owner whose standing changed (outside the lock: owners publish to the page)."""
        with self._lock:
            if tickets is None:
                tickets = [*self._queue, *self._waiting, *self._holding]
            changed = []
            for ticket in tickets:
                standing = self._standing(ticket)
                if standing != ticket._announced and ticket.on_change is not None:
                    ticket._announced = standing
                    changed.append((ticket.on_change, standing))
        for on_change, standing in changed:
            on_change(standing)

    def snapshot(self) -> dict:
        """Counts for benchmarks and logs."""
        with self._lock:
            return {"queued": len(self._queue), "waiting": len(self._waiting), "holding": len(self._holding)}


# ---- the server's scheduler, and workers attached to the task whose thread calls them ------------
_shared: Scheduler | None = None
_shared_lock = threading.Lock()


def shared() -> Scheduler:
    """This server process's scheduler, made from lab.settings at first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from lab.settings import current
            settings = current()
            _shared = Scheduler(settings.slots, settings.slice_s)
        return _shared


def set_current(ticket: Ticket | None) -> None:
    """The ticket of the work this thread does (set by BackgroundTask for its thread)."""
    _local.ticket = ticket


def attach(worker) -> None:
    """Tie ``worker`` to the ticket of the calling thread, if any: it is suspended with it."""
    ticket = getattr(_local, "ticket", None)
    if ticket is not None and worker not in ticket.workers:
        ticket.workers.add(worker)
