"""The fields room's side of its worker process: what the worker holds, and when to rebuild it.

The fields train in a child process (``lab.worker``; its object is ``lab.fields.training.Training``),
not in the server: in a thread of the server the training waited for the GIL whenever the
session's event loop serialised plots or answered a click, and the loop waited for the
training. The process starts at the room's first Train or Step (opening the room starts none),
and ends with the room's browser session.
"""
from __future__ import annotations

import threading

from engines.fields.devices import resolve_device
from lab import worker
from lab.fields.training import RunPlan, Training, View
from lab.rooms import worker_preload
from lab.worker import Worker

_WARMING = threading.Lock()
_warmed = False


def warm_up_soon(delay: float = 3.0) -> None:
    """Start the server's forkserver (which imports torch and the training code once) a few
    seconds after a room opened, so the first Train starts its worker in ~0.1 s instead of
    paying those imports; once per server process, shared by every session."""
    global _warmed
    with _WARMING:
        if _warmed:
            return
        _warmed = True
    timer = threading.Timer(delay, worker.warm_up, args=(worker_preload(),))
    timer.daemon = True
    timer.start()


class TrainingProcess:
    """The worker, the target and plans its runs were built from, and live settings to send."""

    def __init__(self):
        # the forkserver imports every room's worker modules once per server: a worker starts in ~0.1 s
        self.worker: Worker[Training] = Worker(Training, preload=worker_preload(), name="fields-training")
        self._built: tuple | None = None   # (plans, device, target) of the runs the worker holds
        self._sent_target = None
        self._settings: dict = {}          # live settings not yet sent (replaced, never mutated)

    @property
    def training(self) -> Training:
        """The worker's ``Training``: ``process.training.advance(...)`` runs there. Live settings
        changed since the last call are sent first."""
        settings, self._settings = self._settings, {}
        if settings and self._built is not None:
            self.worker.remote.configure(**settings)
        return self.worker.remote

    @property
    def has_runs(self) -> bool:
        return self._built is not None

    def configure(self, **settings) -> None:
        """Live settings (learning rate, batch size, adaptive kernels, pace) for the next call."""
        self._settings = {**self._settings, **settings}

    def matches(self, plans: list[RunPlan], device: str, target) -> bool:
        """Whether the worker's runs were built from these plans, on this device and target."""
        if self._built is None or not self.worker.alive:
            return False
        built_plans, built_device, built_target = self._built
        return ([p.config.architecture() for p in built_plans] == [p.config.architecture() for p in plans]
                and built_target is target and built_device == resolve_device(device))

    def build(self, plans: list[RunPlan], device: str, target, view: View, pace: str) -> list:
        """Fresh runs of ``plans`` on ``target``; returns their snapshots."""
        if self.worker.pid is not None and not self.worker.alive:  # it died (out of memory?): a new one
            self.worker.restart()
            self._sent_target = None
        remote = self.worker.remote
        if self._sent_target is not target:
            remote.set_target(target)
            self._sent_target = target
        remote.configure(pace=pace)
        shots = remote.reset(plans, device, view)
        self._built, self._settings = (list(plans), resolve_device(device), target), {}
        return shots

    def adopted(self, plan: RunPlan, device: str, target) -> None:
        """The worker now trains a checkpoint's run (``Training.adopt_checkpoint``)."""
        self._built, self._sent_target, self._settings = ([plan], resolve_device(device), target), target, {}

    def forget(self) -> None:
        """The runs are no longer wanted (a new target): the next Train builds afresh."""
        self._built = None

    def close(self) -> None:
        self.worker.close()
