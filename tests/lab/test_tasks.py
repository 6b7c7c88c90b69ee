import threading
import time

import pytest

from engines.errors import DivergenceError
from lab.tasks import BackgroundTask
from tests.lab import polling


def wait_for(predicate):
    polling.wait_for(predicate, timeout=10.0)


def counting_step(counter, delay=0.0):
    def step():
        time.sleep(delay)
        counter.append(1)
        return 1
    return step


def test_runs_to_its_total_and_reports_progress():
    counter = []
    task = BackgroundTask(publish_interval=0)
    task.start(counting_step(counter), total_steps=50)
    wait_for(lambda: task.state == "finished")
    assert len(counter) == 50
    assert task.steps_done == 50
    assert task.fraction == 1.0
    assert task.elapsed > 0


def test_pause_holds_and_resume_continues():
    counter = []
    task = BackgroundTask(publish_interval=0)
    task.start(counting_step(counter, delay=0.005), total_steps=10_000)
    wait_for(lambda: len(counter) > 3)
    task.pause()
    assert task.state == "paused"
    time.sleep(0.1)
    held = len(counter)
    time.sleep(0.2)
    assert len(counter) == held  # no step while paused (at most the one in flight before)
    task.resume()
    wait_for(lambda: len(counter) > held + 3)
    task.stop()
    assert task.state == "stopped"
    assert not task.is_alive


def test_step_returning_none_finishes_open_ended_work():
    items = iter(range(5))
    task = BackgroundTask()
    task.start(lambda: next(items, None) is not None or None)
    wait_for(lambda: task.state == "finished")
    assert task.steps_done == 5
    assert task.fraction is None


def test_engine_error_fails_with_the_users_message():
    def diverge():
        raise DivergenceError("loss became NaN at step 3; the last good state was restored")
    finished = threading.Event()
    task = BackgroundTask()
    task.start(diverge, on_finish=lambda outcome: finished.set())
    assert finished.wait(5)
    assert task.state == "failed"
    assert task.error.startswith("loss became NaN")


def test_a_bug_in_the_step_fails_the_task_not_the_process(caplog):
    task = BackgroundTask()
    task.start(lambda: 1 / 0)
    wait_for(lambda: task.state == "failed")
    assert "ZeroDivisionError" in task.error
    assert "Traceback" in caplog.text


def test_restart_stops_the_previous_run():
    first, second = [], []
    task = BackgroundTask()
    task.start(counting_step(first, delay=0.002))
    wait_for(lambda: len(first) > 2)
    task.start(counting_step(second, delay=0.002), total_steps=5)
    stopped_at = len(first)
    wait_for(lambda: task.state == "finished")
    assert len(first) == stopped_at
    assert len(second) == 5


def test_session_end_stops_the_task():
    import panel as pn
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    doc = Document()
    counter = []
    with set_curdoc(doc):
        task = BackgroundTask()
    task.start(counting_step(counter, delay=0.002))
    wait_for(lambda: len(counter) > 2)
    assert doc.session_destroyed_callbacks, "the task did not register with its session"
    for callback in list(doc.session_destroyed_callbacks):
        callback(None)
    wait_for(lambda: not task.is_alive)
    assert task.state == "stopped"


def test_work_made_in_a_background_thread_is_not_tied_to_another_session():
    """In a task's thread Panel's current document falls back to whichever session the server's
    loop is serving; a worker made there must not close when that session ends."""
    import threading
    import weakref
    from types import SimpleNamespace

    from bokeh.document import Document
    from bokeh.io.doc import patch_curdoc
    from bokeh.server.contexts import BokehSessionContext

    from lab.sessions import on_session_end

    other = Document()
    context = BokehSessionContext("another-students-session", None, other)
    context._request = SimpleNamespace(arguments={}, cookies={}, headers={})
    other._session_context = weakref.ref(context)
    with patch_curdoc(other):                   # the loop is serving another session right now
        made_in_thread = threading.Thread(target=on_session_end, args=(lambda: None,))
        made_in_thread.start()
        made_in_thread.join()
        assert not other.session_destroyed_callbacks
        on_session_end(lambda: None)            # the same call from session code does register
        assert len(other.session_destroyed_callbacks) == 1


def test_a_paused_task_shows_every_step_it_took():
    counter = []
    task = BackgroundTask(publish_interval=3600)   # no progress published while running
    task.start(counting_step(counter, delay=0.005), total_steps=10_000)
    wait_for(lambda: len(counter) > 3)
    task.pause()
    wait_for(lambda: task.steps_done == len(counter))
    assert task.state == "paused" and task.steps_done > 3
    task.stop()
