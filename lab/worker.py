"""Run an object in a child process and call its methods from the server.

Why: Python threads share one GIL. Long work in a thread of the Panel server (training a field,
running a network) needs the GIL for every Python line between its native operations, and so
does the session's event loop that serialises plots and answers clicks: each waits for the
other, the work slows down while a browser watches it and clicks are answered late. A child
process has its own interpreter and GIL, so neither waits for the other.

    worker = Worker(Engine, arg, preload=("torch", "my.engine.module"))
    result = worker.call("method", *args, **kwargs)    # Engine(arg).method(...) in the child
    worker.close()

- The child builds ``factory(*args, **kwargs)`` once, then answers calls one at a time, in the
  order they were made. Calls from several threads queue first come, first served, so a click
  waiting for the child is never starved by a loop that calls it back to back.
- Arguments and results are pickled: plain values, numpy arrays, torch tensors, dataclasses of
  those. They are copies: plain ``pickle`` is used, not multiprocessing's own pickler, with
  which torch would move the tensors' storage into shared memory and hand back live views.
  ``factory`` must be importable by name (a module-level class or function). As with any
  multiprocessing code, the child imports the parent's main script first (not ``python -m``
  package mains such as ``panel`` or ``pytest``): a script that starts workers needs its
  ``if __name__ == "__main__":`` guard.
- An ``EngineError`` raised in the child is raised here with its own type and message (the room
  shows it to the user); any other exception becomes ``WorkerError``, and the child's traceback
  goes to the log. If the child dies (killed, out of memory), calls raise ``WorkerError``;
  ``restart()`` starts a fresh one.
- The child ends with ``close()``, with the browser session that created the worker, when the
  worker is garbage collected, or when this process dies (its end of the pipe closes).

Start-up: where the platform has it, children fork from multiprocessing's forkserver, a clean
process started once per server that imports the ``preload`` modules first (torch takes
seconds), so a new worker starts in a fraction of a second. Elsewhere (Windows) each worker is a
fresh interpreter ('spawn') and pays the imports itself. ``warm_up(preload)`` starts the
forkserver ahead of the first worker. The first worker's preload list (or warm_up's) is the one
the forkserver keeps for the life of the server; modules a later worker adds are imported in
each of its children (a fields room's worker then takes ~2 s to start instead of ~0.02 s).
"""
from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
import traceback
import weakref
from typing import Callable

from engines.errors import EngineError
from lab.sessions import on_session_end

log = logging.getLogger("lab.worker")

START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
CLOSE_TIMEOUT = 5.0


class WorkerError(RuntimeError):
    """The child failed in an unexpected way (a bug there, or the process died)."""


def _context(preload) -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver" and preload:
        context.set_forkserver_preload(list(preload))  # no effect once the forkserver runs
    return context


def warm_up(preload=()) -> None:
    """Start the forkserver (importing ``preload``) now, so the first worker starts fast."""
    if START_METHOD == "forkserver":
        _context(preload)
        from multiprocessing import forkserver
        forkserver.ensure_running()


# ---- the child -------------------------------------------------------------------------------
def _send(conn, message) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(conn):
    return pickle.loads(conn.recv_bytes())


def _failure(exc: BaseException) -> tuple:
    if isinstance(exc, EngineError):
        return ("engine-error", type(exc), str(exc))
    return ("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _serve(conn, factory: Callable, args: tuple, kwargs: dict) -> None:
    """The child's loop: build the object, then answer (name, args, kwargs) requests until a
    None request or the parent's end of the pipe closes."""
    try:
        target = factory(*args, **kwargs)
        reply = ("ok", None)
    except Exception as exc:
        target, reply = None, _failure(exc)
    try:
        _send(conn, reply)
        while target is not None:
            request = _receive(conn)
            if request is None:
                return
            name, call_args, call_kwargs = request
            try:
                reply = ("ok", getattr(target, name)(*call_args, **call_kwargs))
                _send(conn, reply)
            except Exception as exc:  # the method, or pickling its result, failed
                _send(conn, _failure(exc))
    except (EOFError, OSError):
        return  # the parent closed its end or died: nobody is left to answer


# ---- the parent ------------------------------------------------------------------------------
class _Turns:
    """A first-come, first-served lock (threading.Lock lets a releasing thread take it back)."""

    def __init__(self):
        self._condition = threading.Condition()
        self._next, self._serving, self._abandoned = 0, 0, set()

    def acquire(self, timeout: float | None = None) -> bool:
        with self._condition:
            ticket, self._next = self._next, self._next + 1
            if self._condition.wait_for(lambda: self._serving == ticket, timeout):
                return True
            self._abandoned.add(ticket)  # skipped when its turn comes
            return False

    def release(self) -> None:
        with self._condition:
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.remove(self._serving)
                self._serving += 1
            self._condition.notify_all()

    def __enter__(self):
        self.acquire()

    def __exit__(self, *_exc):
        self.release()


def _shut(process, conn) -> None:
    """Ask the child to exit, then make sure it did (used by close() and the finaliser)."""
    try:
        _send(conn, None)
    except (OSError, ValueError):
        pass  # already closed or dead
    conn.close()
    process.join(CLOSE_TIMEOUT)
    if process.is_alive():
        process.terminate()
        process.join(CLOSE_TIMEOUT)


class Worker:
    """An object living in a child process; ``call`` runs its methods there."""

    def __init__(self, factory: Callable, *args, preload=(), name: str = "lab-worker", **kwargs):
        self._spec = (factory, args, kwargs)
        self._preload, self._name = tuple(preload), name
        self._turns = _Turns()
        self._process = self._conn = self._finaliser = None
        self._start()
        _close_with_session(self)

    def _start(self) -> None:
        context = _context(self._preload)
        conn, child_conn = context.Pipe()
        process = context.Process(target=_serve, args=(child_conn, *self._spec), daemon=True, name=self._name)
        process.start()
        child_conn.close()  # only the child holds its end: its death closes the pipe
        self._process, self._conn = process, conn
        self._finaliser = weakref.finalize(self, _shut, process, conn)
        self._reply()  # the factory's outcome

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def call(self, name: str, *args, **kwargs):
        """``name(*args, **kwargs)`` on the child's object; waits for the calls made before it."""
        with self._turns:
            if self._conn is None or self._conn.closed:
                raise WorkerError(f"the {self._name} process was closed")
            try:
                _send(self._conn, (name, args, kwargs))
            except OSError as exc:
                raise self._died() from exc
            return self._reply()

    def _reply(self):
        try:
            reply = _receive(self._conn)
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "engine-error":
            raise reply[1](reply[2])
        log.error("%s raised in its child process:\n%s", self._name, reply[2])
        raise WorkerError(reply[1])

    def _died(self) -> WorkerError:
        self._process.join(1.0)
        return WorkerError(f"the {self._name} process stopped unexpectedly (exit code {self._process.exitcode})")

    def restart(self) -> None:
        """A fresh child built from the same factory (after a crash, or to start over)."""
        with self._turns:
            self._finaliser()
            self._start()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let the call in progress finish (up to ``timeout``), then end the child."""
        if self._turns.acquire(timeout):
            try:
                self._finaliser()
            finally:
                self._turns.release()
        else:  # a call hangs: end the child under it (that call raises WorkerError)
            self._process.terminate()
            self._finaliser()


def _close_with_session(worker: Worker) -> None:
    """End the child when the browser session that created the worker is destroyed."""
    reference = weakref.ref(worker)  # the session must not keep a closed room's worker alive

    def close() -> None:  # off the event loop: a call in progress may take a while
        alive = reference()
        if alive is not None:
            threading.Thread(target=alive.close, daemon=True, name="lab-worker-close").start()
    on_session_end(close)
