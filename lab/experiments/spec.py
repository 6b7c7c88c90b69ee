"""What an experiment is: a question, the runs that answer it, a claim and the rule that judges it.

An experiment is declared once, in its room's module here, ``lab/experiments/<room>.py`` (kept
out of the room's package so that listing experiments on the home page imports no room):

    BALANCE_MEMORY = Experiment(
        id="balance-memory", room="reservoir", title="Balance decides memory",
        question="Where does a static reservoir remember its input best?",
        predictions=(Prediction("balanced", "Near balance (g about 1) or slightly inhibited"), ...),
        settings={"balance": 1.0, "adaptation": "off"},        # the room's parameters it sets
        conditions=({"adaptive": False},),                       # each is run for every seed
        sizes={"smoke": {...}, "quick": {...}, "full": {...}},   # knobs; "seeds" is one of them
        measure=memory_across_balance,   # (condition, seed, size) -> yields rows (dicts)
        room_data=None,                  # or (room model) -> RoomData: run on what the room shows
        judge=peak_near_balance,         # (rows as a DataFrame) -> dict (see Verdict)
        figure=Figure("line", x="balance", y="memory capacity", group="condition", ...),
        claim=Claim("...", source="Srinivasan et al. 2025, Fig. 2", tolerance="..."),
        explanation="...")

``measure`` and ``judge`` are plain functions that use the engines only (and import them inside
their bodies, so that listing experiments stays cheap): ``python -m lab.experiments export ID``
copies them into a script that runs without the lab. ``judge`` returns a plain dict
``{"reproduced": bool, "observed": <a prediction key>, "summary": str, "numbers": {...}}`` computed
from the rows every time; the claim and its tolerance are fixed here, before any run. When the data
leave part of the claim untestable (a recording without behaviour labels), ``judge`` says so in an
``"untested"`` entry and reports ``reproduced`` False: the verdict reads "partly tested".

An experiment that can also run on the data a user loaded into its room declares ``room_data``:
given the room's model, it returns a ``RoomData`` (or None when the room shows the experiment's own
default). Run in the room, the experiment then makes one job, seed 0, on that data:
``measure(condition, 0, size, **inputs)``. Headless and in exported scripts it is never called, and
``measure`` generates its own data as before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from lab.experiments.report import verdict_word


SIZES = ("smoke", "quick", "full")   # smoke: tests (seconds); quick: the room and --quick (~1 min)


@dataclass(frozen=True)
class Prediction:
    key: str     # what judge() reports as ``observed`` when the run shows this
    text: str    # the choice a student picks before running


@dataclass(frozen=True)
class Figure:
    kind: str                 # "line" (mean over seeds with a band), "scatter", "bar" or "anatomy" (x names
                              # a neuron, y its value, drawn at its atlas position: the rows' x, y, z columns)
    x: str                    # column of the rows
    y: str
    x_label: str
    y_label: str
    group: str | None = None  # one line / colour per value of this column
    log_x: bool = False


@dataclass(frozen=True)
class Claim:
    statement: str   # the paper's claim, as the lab tests it
    source: str      # where it comes from (paper, figure or section)
    tolerance: str   # what counts as reproduced, in words (the judge applies exactly this)


@dataclass(frozen=True)
class Verdict:
    reproduced: bool
    observed: str            # key of the prediction the run supports ("" when the data cannot tell)
    summary: str             # the numbers, in a sentence
    numbers: dict = field(default_factory=dict)
    untested: str = ""       # the part of the claim these data could not test ("": none)

    @classmethod
    def from_judge(cls, result: dict) -> "Verdict":
        return cls(bool(result["reproduced"]), str(result["observed"]), str(result["summary"]),
                   dict(result.get("numbers", {})), str(result.get("untested", "")))

    @property
    def word(self) -> str:
        return verdict_word({"reproduced": self.reproduced, "untested": self.untested})


@dataclass(frozen=True)
class RoomData:
    """What the room shows, handed to ``measure`` in place of the data it would generate itself."""
    condition: dict    # names the data in the rows, e.g. {"source": "flavell2023: 2022-07-26-31"}
    inputs: dict       # keyword arguments for measure, e.g. {"recording": <engines Recording>}
    description: str   # for the panel: "the recording on show (2022-07-26-31, 146 neurons)"


Rows = Iterator[dict]


@dataclass(frozen=True)
class Experiment:
    id: str
    room: str
    title: str
    question: str
    predictions: tuple[Prediction, ...]
    settings: dict            # room parameters the experiment sets (shown in the room's widgets)
    conditions: tuple[dict, ...]
    sizes: dict               # size name -> knobs for measure (each has "seeds")
    measure: Callable[[dict, int, dict], Rows]
    judge: Callable[..., dict]   # (rows as a pandas DataFrame) -> dict
    figure: Figure
    claim: Claim
    explanation: str          # markdown: why it comes out this way, and the paper
    # its figures are read off a wall clock (PSNR after N seconds): a rerun, or the exported script,
    # agrees within timing noise, not digit for digit
    wall_clock: bool = False
    # (the room's model) -> RoomData to run on what the room shows, or None for the experiment's own data
    room_data: Callable[[Any], RoomData | None] | None = None
    # figures drawn below the main one; each figure draws the rows that have its x and y, so one run
    # may yield rows of several shapes (a curve per worm, and one worm's trajectory)
    more_figures: tuple[Figure, ...] = ()

    def __post_init__(self):
        missing = [name for name in SIZES if name not in self.sizes]
        if missing:
            raise ValueError(f"experiment {self.id} has no size {', '.join(missing)}")
        keys = {p.key for p in self.predictions}
        if len(keys) != len(self.predictions) or len(keys) < 2:
            raise ValueError(f"experiment {self.id} needs two or more predictions with distinct keys")

    def jobs(self, size: str, data: RoomData | None = None) -> list[tuple[dict, int]]:
        """Every (condition, seed) the run makes, in order: one, seed 0, on the room's ``data``."""
        if data is not None:
            return [(dict(data.condition), 0)]
        seeds = range(int(self.sizes[size]["seeds"]))
        return [(condition, seed) for condition in self.conditions for seed in seeds]

    @property
    def figures(self) -> tuple[Figure, ...]:
        return (self.figure, *self.more_figures)

    def prediction(self, key: str) -> Prediction | None:
        return next((p for p in self.predictions if p.key == key), None)
