"""lab.worker: an object in a child process, called from this one."""
import os
import threading
import time

import numpy as np
import pytest
import torch

from engines.errors import InvalidInputError
from lab.worker import Worker, WorkerError


class Counter:
    """What the tests run in the child (importable by name, as a worker's factory must be)."""

    def __init__(self, start=0):
        if start < 0:
            raise InvalidInputError("a counter starts at 0 or more")
        self.count = start
        self.tensor = torch.zeros(3)

    def add(self, k=1):
        self.count += k
        return self.count

    def pid(self):
        return os.getpid()

    def refuse(self):
        raise InvalidInputError("that input is refused")

    def divide_by_zero(self):
        return 1 / 0

    def wait(self, seconds):
        time.sleep(seconds)
        return seconds

    def exit_abruptly(self):
        os._exit(3)

    def bump_tensor(self):
        self.tensor += 1
        return self.tensor


PRELOAD = ("torch", "tests.lab.test_worker")  # imported once by the forkserver, not by every child


@pytest.fixture
def worker():
    worker = Worker(Counter, 5, preload=PRELOAD)
    yield worker
    worker.close()


def test_calls_run_in_a_child_process_and_keep_its_state(worker):
    assert worker.remote.pid() != os.getpid() and worker.alive
    assert worker.remote.add() == 6 and worker.remote.add(k=4) == 10
    assert np.array_equal(worker.remote.bump_tensor(), [1, 1, 1])


def test_results_are_copies_not_views_of_the_childs_tensors(worker):
    first = worker.remote.bump_tensor()
    worker.remote.bump_tensor()
    assert torch.equal(first, torch.ones(3))  # torch's shared-memory pickling is not used


def test_engine_errors_keep_their_type_and_other_errors_become_worker_errors(worker):
    with pytest.raises(InvalidInputError, match="that input is refused"):
        worker.remote.refuse()
    with pytest.raises(WorkerError, match="ZeroDivisionError"):
        worker.remote.divide_by_zero()
    with pytest.raises(WorkerError, match="AttributeError"):
        worker.remote.no_such_method()
    assert worker.remote.add() == 6  # the child lives on
    refused = Worker(Counter, -1, preload=PRELOAD)
    with pytest.raises(InvalidInputError, match="starts at 0"):
        refused.start()
    assert refused.pid is None  # nothing left running; the next call tries afresh
    refused.close()


def test_the_child_starts_at_the_first_call_not_before():
    worker = Worker(Counter, 5, preload=PRELOAD)
    assert worker.pid is None and not worker.alive
    assert worker.remote.add() == 6 and worker.alive
    worker.close()
    with pytest.raises(WorkerError, match="closed"):
        worker.remote.add()


def test_a_call_waits_its_turn_behind_a_busy_loop(worker):
    stop = threading.Event()

    def busy_loop():
        while not stop.is_set():
            worker.remote.wait(0.02)

    thread = threading.Thread(target=busy_loop)
    thread.start()
    try:
        time.sleep(0.1)
        assert worker.remote.add() == 6  # served in turn, not starved by the loop
    finally:
        stop.set()
        thread.join()


def test_a_dead_child_is_reported_and_can_be_restarted(worker):
    first_pid = worker.remote.pid()
    with pytest.raises(WorkerError, match="stopped unexpectedly"):
        worker.remote.exit_abruptly()
    assert not worker.alive
    worker.restart()
    assert worker.remote.add() == 6 and worker.remote.pid() != first_pid


def test_close_ends_the_child_and_later_calls_fail(worker):
    worker.start()
    process = worker._process
    worker.close()
    assert not process.is_alive()
    with pytest.raises(WorkerError, match="closed"):
        worker.remote.add()


def test_close_ends_a_child_stuck_in_a_call():
    worker = Worker(Counter, preload=PRELOAD)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(pytest.raises(WorkerError, worker.remote.wait, 60)))
    thread.start()
    time.sleep(0.3)
    worker.close(timeout=0.5)
    thread.join(5)
    assert not worker.alive and outcome  # the stuck call raised WorkerError


def test_a_forgotten_worker_takes_its_child_with_it():
    worker = Worker(Counter, preload=PRELOAD)
    worker.start()
    process = worker._process
    del worker
    process.join(5)
    assert not process.is_alive()


def test_the_child_ends_with_the_browser_session():
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    doc = Document()
    with set_curdoc(doc):
        worker = Worker(Counter, preload=PRELOAD)
    worker.start()
    process = worker._process
    assert doc.session_destroyed_callbacks, "the worker did not register with its session"
    for callback in list(doc.session_destroyed_callbacks):
        callback(None)
    process.join(10)
    assert not process.is_alive()
