"""The lab-wide scheduler: finite jobs queue for a set number of slots and start by themselves,
live runs take turns in slices, a closed session leaves at once, a worker waiting for its turn is
suspended, and a worker over its memory bound is stopped with a message."""
import itertools
import multiprocessing
import threading
import time
from fractions import Fraction

import psutil
import pytest

import lab.scheduler as scheduling
from lab.scheduler import Scheduler, Standing
from lab.tasks import BackgroundTask
from lab.worker import Worker, WorkerMemoryError, _memory_over
from tests.lab.polling import wait_for


def blocking_job(release: threading.Event, started: list, name: str):
    """A finite job that runs until ``release`` is set (one step at a time)."""
    def step():
        if name not in started:
            started.append(name)
        if release.is_set():
            return None
        time.sleep(0.01)
        return 1
    return step


def finite_tasks(scheduler, n):
    return [BackgroundTask(name=f"job{k}", kind="finite", scheduler=scheduler) for k in range(n)]


def test_the_queue_admits_the_configured_number_and_starts_the_next_when_one_ends():
    scheduler = Scheduler(slots=2, slice_s=0.05)
    releases = [threading.Event() for _ in range(4)]
    started = []
    tasks = finite_tasks(scheduler, 4)
    for task, release in zip(tasks, releases):
        task.start(blocking_job(release, started, task.name))
    wait_for(lambda: sorted(started) == ["job0", "job1"])
    time.sleep(0.3)
    assert sorted(started) == ["job0", "job1"]                       # never more than two
    assert [t.state for t in tasks] == ["running", "running", "queued", "queued"]
    assert [t.queue_place for t in tasks] == [None, None, 1, 2]
    assert tasks[2].share is None and tasks[0].share == Fraction(2, 2)
    releases[1].set()                                                 # one ends ...
    wait_for(lambda: "job2" in started)                               # ... the next starts by itself
    wait_for(lambda: tasks[1].state == "finished" and tasks[3].queue_place == 1)
    assert tasks[2].state == "running" and scheduler.snapshot()["queued"] == 1
    for release in releases:
        release.set()
    wait_for(lambda: all(t.state == "finished" for t in tasks))
    assert started[2:] == ["job2", "job3"]                       # first come, first served
    assert scheduler.snapshot() == {"queued": 0, "waiting": 0, "holding": 0}


def test_a_session_closed_while_queued_leaves_the_queue():
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    scheduler = Scheduler(slots=1, slice_s=0.05)
    release, started = threading.Event(), []
    running = BackgroundTask(name="running", kind="finite", scheduler=scheduler)
    running.start(blocking_job(release, started, "running"))
    doc = Document()
    with set_curdoc(doc):
        closing = BackgroundTask(name="closing", kind="finite", scheduler=scheduler)
    behind = BackgroundTask(name="behind", kind="finite", scheduler=scheduler)
    closing.start(blocking_job(release, started, "closing"))
    behind.start(blocking_job(release, started, "behind"))
    wait_for(lambda: behind.queue_place == 2)
    for callback in list(doc.session_destroyed_callbacks):   # the tab closed
        callback(None)
    assert scheduler.snapshot()["queued"] == 1                # left at once, not after a step
    wait_for(lambda: behind.queue_place == 1 and closing.state == "stopped")
    release.set()
    wait_for(lambda: behind.state == "finished")
    assert "closing" not in started


def test_live_runs_take_turns_in_slices_and_see_their_share():
    scheduler = Scheduler(slots=1, slice_s=0.1)
    owners: list[str] = []
    stop = threading.Event()

    def live(name):
        def step():
            owners.append(name)
            time.sleep(0.01)
            return 1
        return step

    tasks = [BackgroundTask(name=name, kind="live", scheduler=scheduler) for name in ("a", "b", "c")]
    for task in tasks:
        task.start(live(task.name))
    wait_for(lambda: len(owners) > 150, timeout=30)
    for task in tasks:
        task.stop()
    stop.set()
    runs = [owners[0]]
    for owner in owners[1:]:
        if owner != runs[-1]:
            runs.append(owner)
    assert len(runs) >= 6                                       # turns alternate ...
    assert all(runs[k] != runs[k + 1] for k in range(len(runs) - 1))
    assert {runs[k] for k in range(3)} == {"a", "b", "c"}       # ... round robin
    lengths = [len(list(turn)) for _owner, turn in itertools.groupby(owners)]
    assert min(lengths[1:-3]) >= 2, lengths                     # a turn is a slice, not one step
    counts = [owners.count(name) for name in "abc"]
    assert max(counts) <= 2 * min(counts)                       # each gets about a third


def test_shares_and_queue_places_read_as_sentences():
    assert Standing(None, None, Fraction(1, 12)).describe() == "your run gets 1/12 of a core"
    assert Standing(None, None, Fraction(2, 2)).describe() == "your run has a core of its own"
    assert Standing(3, 40.0, None).describe() == "queued: 3rd in line, starts in ~40 s"
    assert Standing(1, None, None).describe() == "queued: 1st in line"


def test_the_wait_estimate_follows_running_jobs_progress(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(scheduling.time, "monotonic", lambda: clock[0])
    scheduler = Scheduler(slots=1, slice_s=1.0)
    progress = [0.0]
    running = scheduler.join("finite", "running", progress=lambda: progress[0])
    queued = [scheduler.join("finite", f"q{k}") for k in range(2)]
    assert queued[0].standing.place == 1 and queued[0].standing.wait_s is None   # nothing known yet
    clock[0] += 30.0
    progress[0] = 0.5                                       # half done in 30 s: 30 s to go
    assert queued[0].standing.wait_s == 30.0
    assert queued[1].standing.wait_s is None                # a job's typical length is not known yet
    running.leave()                                         # it took 30 s
    clock[0] += 10.0
    assert queued[1].standing == Standing(1, 20.0, None)    # the admitted job is 10 s into ~30 s
    for ticket in queued:
        ticket.leave()


# ---- worker processes -------------------------------------------------------------------------
class Ticker:
    """Counts in a thread of its own, as a live stepper in a worker process computes by itself."""

    def __init__(self):
        self.count = 0
        threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while True:
            self.count += 1
            time.sleep(0.002)

    def read(self) -> int:
        return self.count

    def allocate(self, megabytes: int) -> int:
        self.block = bytearray(megabytes * 2**20)
        for k in range(0, len(self.block), 4096):
            self.block[k] = 1
        time.sleep(5)
        return len(self.block)


def test_a_worker_waiting_for_its_turn_is_suspended_and_still_answers_calls():
    scheduler = Scheduler(slots=1, slice_s=0.2)
    ticker = Worker(Ticker, name="ticker")
    reads: list[int] = []
    gate, holding = threading.Event(), threading.Event()
    try:
        def pumped():      # a live run whose work happens in the worker between steps
            reads.append(ticker.remote.read())
            time.sleep(0.02)
            return 1

        def hog():         # another run whose step keeps the only slot until the gate opens
            holding.set()
            gate.wait(10)
            return 1

        owner = BackgroundTask(name="owner", kind="live", scheduler=scheduler)
        other = BackgroundTask(name="other", kind="live", scheduler=scheduler)
        owner.start(pumped)
        wait_for(lambda: len(reads) > 3)
        other.start(hog)
        wait_for(holding.is_set)                 # the owner's slice ended; it waits for its turn
        assert owner._ticket.where == scheduling.WAITING and ticker._suspended
        frozen = ticker.remote.read()            # a call while suspended: answered, briefly awake
        time.sleep(0.5)
        while_waiting = ticker.remote.read() - frozen
        gate.set()
        owner.stop()
        other.stop()
        assert not ticker._suspended             # continued once it left the scheduler
        before = ticker.remote.read()
        time.sleep(0.5)
        while_free = ticker.remote.read() - before
        assert while_waiting < 0.1 * while_free, (while_waiting, while_free)
    finally:
        gate.set()
        ticker.close()


def test_a_paused_run_leaves_the_rotation_and_its_worker_runs_for_the_room():
    scheduler = Scheduler(slots=1, slice_s=0.05)
    ticker = Worker(Ticker, name="ticker")
    try:
        runs = [BackgroundTask(name=n, kind="live", scheduler=scheduler) for n in ("owner", "other")]
        runs[0].start(lambda: ticker.remote.read() and time.sleep(0.01) or 1)
        runs[1].start(lambda: time.sleep(0.01) or 1)
        wait_for(lambda: runs[0]._ticket.where == scheduling.WAITING)
        runs[0].pause()
        assert runs[0]._ticket.where == scheduling.RESTING and not ticker._suspended
        assert runs[1].share == Fraction(1, 1)   # alone in the rotation now
        runs[0].resume()
        wait_for(lambda: runs[1].share == Fraction(1, 2) and runs[0].share == Fraction(1, 2))
        for run in runs:
            run.stop()
    finally:
        ticker.close()


@pytest.mark.timeout(120)
def test_a_worker_over_the_memory_bound_is_stopped_with_a_message(monkeypatch):
    monkeypatch.setenv("NEURAL_LAB_WORKER_MEMORY_MB", "300")
    hungry = Worker(Ticker, name="fields-training")
    task = BackgroundTask(name="hungry", kind="live", scheduler=Scheduler(slots=1, slice_s=1.0))
    try:
        task.start(lambda: hungry.remote.allocate(600) and None)
        wait_for(lambda: task.state == "failed", timeout=60)
        assert ("The fields-training process used" in task.error and "more than the 300 MB one worker may use"
                in task.error and "NEURAL_LAB_WORKER_MEMORY_MB" in task.error)
        with pytest.raises(WorkerMemoryError):
            hungry.remote.read()
        hungry.restart()                         # the room starts over; the server carried on
        assert hungry.remote.read() >= 0
    finally:
        hungry.close()


def test_memory_a_child_shares_with_its_parent_does_not_count_against_the_bound():
    # A worker forked from the forkserver shares its preloaded modules (torch: ~300 MB of RSS
    # in every child). Only what the child holds of its own counts; CI once stopped every worker
    # under a 300 MB bound for the parent's pages.
    inherited = bytearray(400 * 2**20)
    for k in range(0, len(inherited), 4096):
        inherited[k] = 1
    ready = multiprocessing.get_context("fork").Event()
    child = multiprocessing.get_context("fork").Process(target=_hold_and_wait, args=(0, ready), daemon=True)
    hungry = multiprocessing.get_context("fork").Process(target=_hold_and_wait, args=(400, ready), daemon=True)
    try:
        child.start()
        assert ready.wait(30)
        assert psutil.Process(child.pid).memory_info().rss > 300 * 2**20   # RSS counts the parent's pages
        assert _memory_over(child.pid, 300 * 2**20) is None
        ready.clear()
        hungry.start()
        assert ready.wait(30)
        assert _memory_over(hungry.pid, 300 * 2**20) > 300 * 2**20         # its own 400 MB do count
    finally:
        for process in (child, hungry):
            if process.pid is not None:
                process.kill()
                process.join()


def _hold_and_wait(megabytes: int, ready) -> None:
    own = bytearray(megabytes * 2**20)
    for k in range(0, len(own), 4096):
        own[k] = 1
    ready.set()
    time.sleep(60)
