"""Drawing from background threads goes through the session's loop, and stops with the page."""
import threading

from bokeh.document import Document
from panel.io.state import set_curdoc

from views.session import SessionLoop


class FakeSession:
    _pending_writes = None   # Bokeh's ServerSession: a list only while its document lock is held


class FakeSessionContext:
    session = None           # set once Bokeh has made the server session (after the page is built)


def served_document() -> Document:
    doc = Document()
    context = FakeSessionContext()
    doc._session_context = lambda: context   # what Bokeh's server sets (a weak reference)
    doc._keep = context
    return doc


def from_thread(fn) -> None:
    thread = threading.Thread(target=fn)
    thread.start()
    thread.join()


def test_outside_a_served_page_work_runs_at_once():
    ran = []
    SessionLoop().run(lambda: ran.append(1))
    assert ran == [1]


def test_a_thread_schedules_on_the_loop_while_the_page_is_open():
    doc = served_document()
    with set_curdoc(doc):
        loop = SessionLoop()
    ran = []
    from_thread(lambda: loop.run(lambda: ran.append(threading.current_thread().name)))
    assert ran == []                                   # not run in the calling thread
    assert len(doc.callbacks.session_callbacks) == 1   # but scheduled on the session's loop


def test_after_the_page_closed_a_thread_never_draws_itself():
    # The server crashed when a training thread published its last result as the tab closed:
    # Bokeh had already cleared the document's session, so the draw ran in the training thread
    # and VTK aborted the process (two threads in its OpenGL state).
    doc = served_document()
    with set_curdoc(doc):
        loop = SessionLoop()
    doc._session_context = None                        # what Document.destroy does
    ran = []
    from_thread(lambda: loop.run(lambda: ran.append(1)))
    assert ran == [] and loop.ended


def test_work_scheduled_before_the_page_has_its_document_waits_for_it():
    # BokehJS drops a patch that arrives before it has pulled its document, while the server
    # counts the models in it as sent: later patches then refer to models the page never got
    # ("reference pN isn't known") and the room stops updating.
    import panel as pn
    doc = served_document()
    with set_curdoc(doc):
        loop = SessionLoop()
    ran = []
    from_thread(lambda: loop.run(lambda: ran.append(1)))
    (callback,) = doc.callbacks.session_callbacks
    callback.callback()                  # the loop's next tick: the page is not ready yet
    assert ran == []
    pn.state._on_load(doc)               # the page reports its document ready
    assert ran == [1]


def test_a_redraw_that_could_not_be_scheduled_does_not_block_the_next_ones(monkeypatch):
    # Adding a callback to Bokeh's document from a thread can fail while the loop changes them;
    # the Redraw stayed "pending" for ever and the page kept showing an old state.
    from views.session import Redraw
    doc = served_document()
    with set_curdoc(doc):
        redraw = Redraw(lambda: None)
    failures = [RuntimeError("dictionary changed size during iteration")] * 10
    real = doc.add_next_tick_callback

    def flaky(callback):
        if failures:
            raise failures.pop()
        return real(callback)

    monkeypatch.setattr(doc, "add_next_tick_callback", flaky)
    from_thread(redraw)                 # five tries, all fail: not scheduled
    assert len(doc.callbacks.session_callbacks) == 0
    from_thread(redraw)                 # five more fail
    from_thread(redraw)                 # now it is scheduled: the redraw was not stuck "pending"
    assert len(doc.callbacks.session_callbacks) == 1


def test_on_the_loop_without_the_document_lock_work_waits_for_the_next_tick():
    # Panel runs a click that arrives while a widget change is still debounced in an unlocked
    # coroutine on the loop; a redraw run there edited Bokeh models without the lock, Bokeh raised
    # "_pending_writes should be non-None" (CI, the fields and reservoir journeys) and the click's
    # work was lost.
    doc = served_document()
    with set_curdoc(doc):
        loop = SessionLoop()
        ran = []
        loop.run(lambda: ran.append("building"))        # the page is still being built: at once
        doc.session_context.session = FakeSession()
        loop.run(lambda: ran.append("unlocked"))        # an unlocked event: scheduled
        assert ran == ["building"] and len(doc.callbacks.session_callbacks) == 1
        doc.session_context.session._pending_writes = []
        loop.run(lambda: ran.append("locked"))          # a locked callback: at once
        assert ran == ["building", "locked"]
