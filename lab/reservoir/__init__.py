"""The reservoir room's model (no panel imports; testable headless).

``ReservoirRoom`` holds the parameters a student sets (N, E fraction, in-degree, gain, balance g,
input scale, topology, adaptation, target rates, seed), runs the network live
(``run / pause / step / reset``): while it runs, it steps in a worker process of its own
(handover.py, stepper.py) and a ``BackgroundTask`` takes its frames, publishing ``snapshot`` (a
``LiveSnapshot`` of the rolling window) and ``regime`` at ``frame_rate``. On request it computes
``spectrum`` (eigenvalues of W and of the Jacobian) and ``train()``s a readout on a task
(``task_result``); ``start_sweep()`` scores a grid of g x static/adaptive x seeds through the
engine's Dask sweep in a second task (``sweep``), filling ``sweep_table``, ``sweep_summary`` and
``sweep_regimes``; ``sweep_csv()`` gives the table as CSV. ``close()`` stops everything.
"""
from lab.reservoir.analysis import Spectrum, TaskResult
from lab.reservoir.live import LiveSnapshot
from lab.reservoir.model import ReservoirRoom

__all__ = ["ReservoirRoom", "LiveSnapshot", "Spectrum", "TaskResult"]
