"""Waiting in tests for work that runs in a background thread or a worker process."""
import time


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.02) -> None:
    """Return once ``predicate()`` is true; fail the test if it is not within ``timeout`` s."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not reached in time")
