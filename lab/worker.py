"""Run an object in a child process and call its methods from the server.

Why: Python threads share one GIL. Long work in a thread of the Panel server (training a field,
running a network) needs the GIL for every Python line between its native operations, and so
does the session's event loop that serialises plots and answers clicks: each waits for the
other, the work slows down while a browser watches it and clicks are answered late. A child
process has its own interpreter and GIL, so neither waits for the other.

    worker = Worker(Engine, arg, preload=("torch", "my.engine.module"))
    engine = worker.remote          # typed as Engine: tools follow engine.method to Engine.method
    result = engine.method(*args, **kwargs)            # Engine(arg).method(...) in the child
    worker.close()

- The child starts at the first call (or ``start()``), not when the Worker is made: a room can
  make its worker in its constructor and pay for the process only when the user asks for work.

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
- Memory: a child using more than the operator's bound (lab.settings: NEURAL_LAB_WORKER_MEMORY_MB)
  is stopped by a watchdog thread; its calls raise ``WorkerMemoryError`` with a message for the
  user, and the server carries on.
- Turns: a worker called from a BackgroundTask's thread belongs to that task's turn in the
  lab's scheduler (lab/scheduler.py). While the task waits for its turn the child is suspended
  (SIGSTOP, where the platform has it), so work it does by itself between calls waits too; a
  call made meanwhile (a click in the room) continues it for the call's duration.

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
import os
import pickle
import signal
import threading
import time
import traceback
import weakref
from contextlib import contextmanager
from typing import Callable, Generic, TypeVar, cast

from engines.errors import EngineError
from lab import scheduler
from lab.sessions import on_session_end

log = logging.getLogger("lab.worker")

T = TypeVar("T")
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
CLOSE_TIMEOUT = 5.0


class WorkerError(RuntimeError):
    """The child failed in an unexpected way (a bug there, or the process died)."""


class WorkerMemoryError(WorkerError, EngineError):
    """The child used more memory than one worker may and was stopped (a message for the user)."""


MEMORY_POLL_S = 0.25


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


class _Remote:
    """Attribute access on ``Worker.remote``: each method name becomes a call in the child."""

    def __init__(self, worker: "Worker"):
        self._worker = worker

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._worker.call(name, *args, **kwargs)


class Worker(Generic[T]):
    """An object living in a child process; ``remote`` (typed as that object) runs its methods there."""

    def __init__(self, factory: Callable[..., T], *args, preload=(), name: str = "lab-worker", **kwargs):
        self._spec = (factory, args, kwargs)
        self._preload, self._name = tuple(preload), name
        self._turns = _Turns()
        self._process = self._conn = self._finaliser = None
        self._closed = False
        self._ended_because: str | None = None       # why the watchdog stopped the child
        self._sleep = threading.Lock()               # guards the two fields below
        self._suspended, self._calls_in_flight = False, 0
        _close_with_session(self)

    @property
    def remote(self) -> T:
        """The child's object as seen from here: ``worker.remote.method(...)`` calls it there.

        Typed as the factory's result, so a reader (or a tool) goes from a call site straight to
        the method that runs; the arguments and the result travel pickled (copies)."""
        return cast(T, _Remote(self))

    def start(self) -> None:
        """Start the child now (it otherwise starts at the first call)."""
        with self._turns:
            if self._process is None:
                self._start()

    def _start(self) -> None:
        context = _context(self._preload)
        conn, child_conn = context.Pipe()
        process = context.Process(target=_serve, args=(child_conn, *self._spec), daemon=True, name=self._name)
        process.start()
        child_conn.close()  # only the child holds its end: its death closes the pipe
        self._process, self._conn = process, conn
        self._ended_because = None
        self._finaliser = weakref.finalize(self, _shut, process, conn)
        _watch_memory(self)
        try:
            self._reply()  # the factory's outcome
        except Exception:
            self._finaliser()  # the child has nothing to serve: the next call starts a fresh one
            self._process = None
            raise

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def call(self, name: str, *args, **kwargs):
        """``name(*args, **kwargs)`` on the child's object; waits for the calls made before it.

        Rooms use ``remote`` instead; this is what it calls."""
        scheduler.attach(self)
        with self._turns:
            if self._closed:
                raise WorkerError(f"the {self._name} process was closed")
            if self._process is None:
                self._start()
            with self._awake():
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
        if self._ended_because is not None:
            return WorkerMemoryError(self._ended_because)
        return WorkerError(f"the {self._name} process stopped unexpectedly (exit code {self._process.exitcode})")

    # ---- turns (lab.scheduler) ------------------------------------------------------------
    def suspend(self) -> None:
        """Stop the child until ``resume()`` (calls made meanwhile continue it while they run)."""
        with self._sleep:
            self._suspended = True
            if self._calls_in_flight == 0:
                self._signal("SIGSTOP")

    def resume(self) -> None:
        with self._sleep:
            if self._suspended:
                self._suspended = False
                self._signal("SIGCONT")

    @contextmanager
    def _awake(self):
        """The child runs for the duration of a call, suspended or not."""
        with self._sleep:
            self._calls_in_flight += 1
            if self._suspended:
                self._signal("SIGCONT")
        try:
            yield
        finally:
            with self._sleep:
                self._calls_in_flight -= 1
                if self._suspended and self._calls_in_flight == 0:
                    self._signal("SIGSTOP")

    def _signal(self, name: str) -> None:
        process, signum = self._process, getattr(signal, name, None)
        if signum is None or process is None or not process.is_alive():
            return   # no such signal here (Windows): work is not suspended, only its steps wait
        try:
            os.kill(process.pid, signum)
        except ProcessLookupError:
            pass

    # ---- memory ------------------------------------------------------------------------------
    def _stop_for_memory(self, used: int, limit: int) -> None:
        """Called by the watchdog: end the child; its calls raise WorkerMemoryError."""
        self._ended_because = (
            f"The {self._name} process used {used / 2**20:,.0f} MB of memory, more than the "
            f"{limit / 2**20:,.0f} MB one worker may use on this server (NEURAL_LAB_WORKER_MEMORY_MB), "
            "and was stopped. Try a smaller model or dataset; the rest of the lab carries on.")
        log.warning("%s (pid %s): %s", self._name, self.pid, self._ended_because)
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def restart(self) -> None:
        """A fresh child built from the same factory (after a crash, or to start over)."""
        with self._turns:
            if self._finaliser is not None:
                self._finaliser()
            self._closed = False
            self._start()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let the call in progress finish (up to ``timeout``), then end the child."""
        self._closed = True
        if self._process is None:
            return  # never started
        self.resume()  # a suspended child could not answer the request to exit
        if self._turns.acquire(timeout):
            try:
                self._finaliser()
            finally:
                self._turns.release()
        else:  # a call hangs: end the child under it (that call raises WorkerError)
            self._process.terminate()
            self._finaliser()


# ---- the memory watchdog: one thread per server process, polling every live worker ----------------
_watched: "weakref.WeakSet[Worker]" = weakref.WeakSet()
_watchdog_lock = threading.Lock()
_watchdog: threading.Thread | None = None


def _watch_memory(worker: Worker) -> None:
    global _watchdog
    with _watchdog_lock:
        _watched.add(worker)
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = threading.Thread(target=_watch_loop, daemon=True, name="lab-worker-memory")
            _watchdog.start()


def _watch_loop() -> None:
    from lab.settings import current
    while True:
        time.sleep(MEMORY_POLL_S)
        try:
            limit = current().worker_memory_bytes
        except ValueError:   # a bad setting is reported where it is used; no bound meanwhile
            limit = None
        if limit is not None:
            _check_memory(limit)


def _check_memory(limit: int) -> None:
    """One look at every live worker (a function of its own: while the watchdog sleeps it holds no
    reference to a worker, so a forgotten one is still collected and takes its child with it)."""
    for worker in list(_watched):
        pid = worker.pid if worker.alive else None
        used = _memory_over(pid, limit) if pid is not None else None
        if used is not None:
            worker._stop_for_memory(used, limit)


def _memory_over(pid: int, limit: int) -> int | None:
    """The memory process ``pid`` holds of its own, in bytes, when that is over ``limit``; else None.

    RSS also counts the pages a child shares with the forkserver (torch and the rooms' modules,
    ~300 MB the child did not add); what it would free when stopped is its unique memory (USS).
    RSS >= USS and is cheap to read, so USS (~10 ms) is read only when RSS is over the limit."""
    import psutil
    try:
        process = psutil.Process(pid)
        if process.memory_info().rss <= limit:
            return None
        used = process.memory_full_info().uss
    except psutil.Error:
        return None
    return used if used > limit else None


def _close_with_session(worker: Worker) -> None:
    """End the child when the browser session that created the worker is destroyed."""
    reference = weakref.ref(worker)  # the session must not keep a closed room's worker alive

    def close() -> None:  # off the event loop: a call in progress may take a while
        alive = reference()
        if alive is not None:
            threading.Thread(target=alive.close, daemon=True, name="lab-worker-close").start()
    on_session_end(close)
