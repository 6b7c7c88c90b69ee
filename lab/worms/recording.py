"""The recording on show: the worm's raw recording put through the preprocessing the user
chose; what the status line says about it; and worms compared on the neurons they share."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import param

from engines.errors import InvalidInputError
from engines.worms import (BilateralMerge, CausalMovingAverage, DeltaFOverF, Derivative,
                           GaussianSmooth, Pipeline, Recording, Resample, ZScore)
from engines.worms.neurons import CLASS_MEMBERS
from lab.worms.sources import Datasets

SMOOTHING = ("none", "causal moving average", "gaussian")
NORMALISATION = ("none", "z-score", "dF/F")
PREPROCESSING = ("resample_dt", "smoothing", "smoothing_window", "smoothing_sigma_s",
                 "derivative", "normalisation", "merge_bilateral")
FAVOURITES = ("AVAL", "AVAR", "AVA", "AVBL", "AVB", "RIML", "RIM", "SMDVL", "SMDV")


def identity_notice(rec: Recording) -> str:
    """What to tell the user when a recording names none of its neurons, else ''."""
    if rec.labelled_columns():
        return ""
    source = str(rec.provenance.get("file") or rec.name)
    stem = Path(source.split(": ", 1)[-1]).name
    uid = stem[:-len("-data.h5")] if stem.endswith("-data.h5") else Path(stem).stem
    return (f"**No identified neurons in {rec.name}**: its {rec.n_neurons} traces have no neuron "
            f"names, so none can be picked by name, placed in 3D or linked to the connectome. "
            f"For a Flavell-lab recording, open `{uid}-labels.csv` together with `{uid}-data.h5`.")


class RecordingOnShow(Datasets):
    """Preprocessing settings and the preprocessed recording they give."""

    resample_dt = param.Number(default=0.0, bounds=(0.0, 5.0), step=0.1, label="Resample dt (s)",
                               doc="Resample to this step in seconds (0 keeps the recording's).")
    smoothing = param.Selector(default="none", objects=list(SMOOTHING), label="Smoothing",
                               doc="Smoothing method.")
    smoothing_window = param.Integer(default=5, bounds=(1, 200), label="Window (samples)",
                                     doc="Causal moving-average window, in samples.")
    smoothing_sigma_s = param.Number(default=1.0, bounds=(0.05, 30.0), label="Gaussian width (s)",
                                     doc="Gaussian smoothing width (standard deviation), in seconds.")
    derivative = param.Boolean(default=False, label="Time derivative",
                               doc="Show the time derivative of each trace (per second).")
    normalisation = param.Selector(default="z-score", objects=list(NORMALISATION), label="Normalisation",
                                   doc="Per-neuron z-score, dF/F (needs raw fluorescence) or none.")
    merge_bilateral = param.Boolean(default=False, label="Merge left/right pairs",
                                    doc="Average left/right pairs (AVAL + AVAR -> AVA).")

    recording = param.Parameter(default=None, constant=True,
                                doc="The preprocessed recording on show (engine Recording).")
    status = param.String(default="", constant=True, doc="One line on what is on show.")
    warnings = param.List(default=[], constant=True, doc="Loader warnings for the worm on show.")
    notice = param.String(default="", constant=True,
                          doc="What the user must know about this recording (no identified neurons).")

    def __init__(self, **params):
        super().__init__(**params)
        self._raw: Recording | None = None
        self._shown: tuple = (None, None)  # (dataset, worm) whose recording is on show
        self.param.watch(self._preprocessing_changed, list(PREPROCESSING))

    @param.depends("worm", watch=True)
    def _worm_changed(self) -> None:
        if self.worm is None or self.source is None:
            self._raw = None
            self._publish(recording=None, warnings=[], status="", notice="")
            return
        self._raw = self.source[self.worm]
        self._shown = (self.dataset, self.worm)
        self._refresh()

    @property
    def raw_recording(self) -> Recording | None:
        """The worm on show as it was loaded, before the room's preprocessing (None: none yet)."""
        return self._raw

    def pipeline(self) -> Pipeline:
        """The preprocessing steps the parameters ask for, in a fixed, sensible order."""
        steps = []
        if self.resample_dt > 0:
            steps.append(Resample(self.resample_dt))
        if self.smoothing == "causal moving average":
            steps.append(CausalMovingAverage(self.smoothing_window))
        elif self.smoothing == "gaussian":
            steps.append(GaussianSmooth(self.smoothing_sigma_s))
        if self.normalisation == "dF/F":  # on raw fluorescence, before any derivative
            steps.append(DeltaFOverF())
        if self.derivative:
            steps.append(Derivative())
        if self.normalisation == "z-score":
            steps.append(ZScore())
        if self.merge_bilateral:
            steps.append(BilateralMerge())
        return Pipeline(steps)

    @property
    def activity_unit(self) -> str:
        """The unit of the traces on show, as the preprocessing leaves them."""
        unit = {"z-score": "z-score", "dF/F": "dF/F"}.get(self.normalisation, "a.u.")
        return f"{unit}/s" if self.derivative and self.normalisation != "z-score" else unit

    def preprocess(self, recording: Recording) -> Recording:
        return self.pipeline()(recording)

    def _preprocessing_changed(self, *events) -> None:
        try:
            self._refresh()
        except InvalidInputError:
            # Put back the setting that made the recording unusable; the view keeps its plots.
            with param.parameterized.discard_events(self):
                self.param.update({e.name: e.old for e in events})
            raise

    def _refresh(self) -> None:
        if self._raw is None:
            return
        rec = self.preprocess(self._raw)
        names = rec.labelled_columns()
        kept = [n for n in self._translate(self.selected, rec) if n in names]
        kind = "SIMULATED data" if rec.simulated else rec.provenance.get("source", "recording")
        status = (f"{rec.name} · {kind} · {rec.n_neurons} neurons ({len(names)} identified) "
                  f"· {rec.n_time:,} samples · {rec.time[-1]:.0f} s")
        self.param.time_s.bounds = (0.0, float(rec.time[-1]))
        self._publish(recording=rec, warnings=list(self._raw.warnings), status=status,
                      notice=identity_notice(rec))
        with param.parameterized.batch_call_watchers(self):
            self.selected = kept or [n for n in FAVOURITES if n in names][:3] or list(names)[:3]
            self.time_s = float(np.clip(self.time_s, 0.0, rec.time[-1]))
            if self.focus not in names:
                self.focus = self.selected[0] if self.selected else ""
        self._update_matches()

    @staticmethod
    def _translate(neurons: list[str], rec: Recording) -> list[str]:
        """Selected names carried across the bilateral toggle (AVAL <-> AVA)."""
        merged = rec.provenance.get("neuron_axis") == "classes"
        out: list[str] = []
        for n in neurons:
            if merged:
                options = [c for c, members in CLASS_MEMBERS.items() if n in members] or [n]
            else:
                options = list(CLASS_MEMBERS.get(n, (n,)))
            out += [o for o in options if o not in out]
        return out

    def _require_recording(self) -> Recording:
        if self.recording is None:
            raise InvalidInputError("no recording is open yet")
        return self.recording

    def comparison(self) -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Neurons shared by the compared worms and, per worm, (time, shared x T traces)."""
        chosen = [w for w in self.compare_worms if self.source is not None and w in self.source.names()]
        if not chosen:
            return [], {}
        recs = {w: self.preprocess(self.source[w]) for w in chosen}
        shared = set.intersection(*(set(r.labelled_columns()) for r in recs.values()))
        first = next(iter(recs.values()))
        shared = [n for n in first.neuron_axis if n in shared]
        out = {}
        for w, r in recs.items():
            cols = r.labelled_columns()
            out[w] = (r.time, r.traces[:, [cols[n] for n in shared]].T)
        return shared, out
