"""The reservoir room's model (no panel imports; testable headless).

``ReservoirRoom`` (model.py) holds what a student sets (settings.py: each setting declared once
with its role: structure, live, display, task, sweep), runs the network live
(``run / pause / step / reset``; handover.py and stepper.py step it in a worker process while it
runs, live.py holds the run and its window), publishes ``snapshot`` and ``regime``, computes
``spectrum`` and ``train()``s a readout on request (``request("spectrum" | "train")`` in the
background), and sweeps g x static/adaptive x seeds through the engine's SweepRunner (sweeps.py:
``start_sweep()``, ``sweep_table``, ``sweep_summary``, ``sweep_regimes``, ``sweep_csv()``).
``close()`` stops everything.
"""
from engines.reservoir.analysis import Spectrum, TaskResult
from lab.reservoir.live import LiveSnapshot
from lab.reservoir.model import ReservoirRoom

__all__ = ["ReservoirRoom", "LiveSnapshot", "Spectrum", "TaskResult"]
