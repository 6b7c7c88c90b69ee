"""The worm room's datasets: the simulated default, the data folder's recordings, opened files
and uploads; which dataset and worm are on show.

Nothing is read or simulated when the room is made: ``start()`` (called by the view after the
first paint, or by a script) lists the data folder and simulates the default in the room's
``BackgroundTask``; the finished collection is published through ``dataset_version``.
"""
from __future__ import annotations

import threading

import param

from engines.worms import WormSimulator
from lab import recordings
from lab.room import RoomModel
from lab.tasks import BackgroundTask
from lab.worms import simulated
from lab.worms.simulated import SIMULATED
from lab.worms.simulation_settings import SimulationSettings

SIM_CHUNK = 80  # samples per background step: ~0.1-0.3 s of work, so pause/stop answer quickly


class Datasets(RoomModel):
    """Which dataset and worm are on show, and where datasets come from."""

    # Choices fill in as datasets load, so a link may name one before it is there (check_on_set).
    dataset = param.Selector(default=SIMULATED, objects=[SIMULATED], check_on_set=False, label="Dataset",
                             doc="The dataset to browse. The simulated default is generated on "
                                 "the real connectome; real recordings appear when present.")
    worm = param.Selector(default=None, objects=[], allow_None=True, check_on_set=False, label="Worm",
                          doc="The recording on show.")
    compare_worms = param.ListSelector(default=[], objects=[], label="Worms to compare",
                                       doc="Worms to compare on the neurons they share.")

    sim_worms = param.Integer(default=6, bounds=(1, 40), label="Simulated worms",
                              doc="How many worms to simulate.")
    sim_duration_s = param.Number(default=960.0, bounds=(60.0, 3600.0), label="Duration (s)",
                                  doc="Simulated seconds per worm.")
    sim_dt = param.Number(default=0.6, bounds=(0.1, 2.0), label="Sim dt (s)",
                          doc="Sampling step of the simulated recordings, in seconds.")
    sim_seed = param.Integer(default=0, bounds=(0, None), label="Seed",
                             doc="Seed of the simulation (the same seed gives the same worms).")
    sim_settings = param.ClassSelector(class_=SimulationSettings, default=SimulationSettings(),
                                       instantiate=True, doc="The parameters that shape the "
                                       "simulated worms' statistics (units and one line each).")

    dataset_version = param.Integer(default=0, constant=True, doc="Bumped when datasets change.")

    def __init__(self, **params):
        super().__init__(**params)
        self.task = BackgroundTask(name="worm-simulation", kind="finite")
        self._sources: dict[str, object] = {}
        self._started = False
        self._simulation_done = threading.Event()
        self._simulation_done.set()
        # A link (or Back) may name a dataset or worm before it has loaded; the page's widgets
        # then fall back to what they can show, so the names asked for are kept until it loads.
        self._wanted: dict[str, str] = {}
        self.param.watch(self._remember_wanted, ["dataset", "worm"])

    # ---- first use -------------------------------------------------------------------------
    def start(self) -> None:
        """Offer the data folder's recordings and show the simulated default (from the cache
        shared by sessions, else simulated in the background). Later calls do nothing."""
        if self._started:
            return
        self._started = True
        for label, folder in recordings.data_folder_recordings().items():
            self._register(label, recordings.open_path(folder), select=False)
        if self.source is not None:  # a link named one of them
            self._dataset_changed()
        cached = simulated.cached_simulation(self._sim_key())
        if cached is not None:
            self._register(SIMULATED, cached, select=self.source is None)
        else:
            self.simulate(select=False)

    def wait_for_simulation(self, timeout: float = 120.0) -> bool:
        """Block until the background simulation (if any) has finished and been published."""
        return self._simulation_done.wait(timeout)

    # ---- the simulated default ---------------------------------------------------------------
    def _sim_key(self) -> tuple:
        return simulated.simulation_key(self.sim_worms, self.sim_duration_s, self.sim_dt, self.sim_seed,
                                        self.sim_settings.values())

    def _simulator(self) -> WormSimulator:
        return WormSimulator(n_worms=self.sim_worms, duration_s=self.sim_duration_s, dt=self.sim_dt,
                             seed=self.sim_seed, params=self.sim_settings.params())

    def simulate_into_cache(self) -> None:
        """Run the simulation of the sim_* settings here, to the end, into the cache that
        sessions share (unless it is there already): the server's warm-up does this for the
        default, so the first student to open the room does not wait for it."""
        key = self._sim_key()
        if simulated.cached_simulation(key) is not None:
            return
        simulator = self._simulator()
        while simulator.samples_done < simulator.n_time:
            simulator.advance(SIM_CHUNK)
        simulated.remember_simulation(key, simulator.collection())

    def simulate(self, select: bool = True) -> None:
        """(Re)generate the simulated dataset in the background with the sim_* settings; when
        it is done it is shown if ``select`` (the user asked) or if nothing else is on show."""
        self._started = True
        key = self._sim_key()
        simulator = self._simulator()

        def step():
            if simulator.samples_done >= simulator.n_time:
                return None
            return simulator.advance(SIM_CHUNK) * simulator.n_worms

        def finished(outcome: str):
            try:
                if outcome == "finished":
                    collection = simulator.collection()
                    simulated.remember_simulation(key, collection)
                    self._register(SIMULATED, collection, select=select or self.source is None
                                   or self.dataset == SIMULATED)
            finally:
                self._simulation_done.set()

        self._simulation_done.clear()
        if select or self.source is None:
            self._publish(status=f"simulating {self.sim_worms} worms x {self.sim_duration_s:.0f} s "
                                 f"on the connectome (simulated data)...")
        self.task.start(step, total_steps=simulator.n_time * simulator.n_worms, on_finish=finished)

    # ---- files -------------------------------------------------------------------------------
    def load_path(self, path) -> None:
        """Open a file or folder inside the lab's data folder; the room keeps what it had on failure."""
        source = recordings.open_path(path)
        self._register(f"file: {path}", source)

    def load_upload(self, files: list[tuple[str, bytes]]) -> None:
        """Open uploaded (filename, bytes) pairs; the room keeps what it had on failure."""
        source = recordings.open_uploads(files)
        self._register(f"upload: {', '.join(name for name, _ in files)}", source)

    def _remember_wanted(self, *events) -> None:
        loaded = {"dataset": list(self._sources), "worm": self.source.names() if self.source is not None else []}
        for event in events:  # a widget falling back shows the default: that is not a wish
            if event.new not in (None, self.param[event.name].default, *loaded[event.name]):
                self._wanted[event.name] = event.new

    def _register(self, label: str, source, select: bool = True) -> None:
        if self._wanted.get("dataset") == label:
            select = True
            del self._wanted["dataset"]
        self._sources[label] = source
        self._shown = (None, None)  # a reloaded dataset may reuse the label and worm names
        self.param.dataset.objects = [SIMULATED] + [k for k in self._sources if k != SIMULATED]
        self._publish(dataset_version=self.dataset_version + 1)
        if select:
            if self.dataset == label:
                self._dataset_changed()
            else:
                self.dataset = label

    @property
    def source(self):
        """The dataset on show (Collection or LazyCollection), or None while simulating."""
        return self._sources.get(self.dataset)

    @param.depends("dataset", watch=True)
    def _dataset_changed(self) -> None:
        source = self.source
        if source is None:  # not loaded yet: shown when it is (start, simulate, _register)
            return
        names = source.names()
        self.param.worm.objects = names
        self.param.compare_worms.objects = names
        self.compare_worms = names[:2]
        wanted = self._wanted.pop("worm", None)
        if wanted in names and wanted != self.worm:
            self.worm = wanted
        elif self.worm not in names:
            self.worm = names[0] if names else None
        elif self._shown != (self.dataset, self.worm):  # a linked widget may have done it already
            self._worm_changed()
