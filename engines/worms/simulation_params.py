"""The simulated worms' parameters, declared once: name, default, bounds, unit and one line each.

``SimulationParams`` is a frozen dataclass; every field carries its bounds, unit and explanation
in ``field(metadata=...)``, so a room can build its widgets from ``parameter_specs()`` without
repeating any of it. ``SHAPING`` names the parameters that shape the statistics real recordings
are compared on (engines.worms.statistics): the ones worth a widget in the room.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from engines.errors import InvalidInputError


@dataclass(frozen=True)
class ParamSpec:
    """What a widget needs to know about one parameter."""
    name: str
    default: float
    bounds: tuple[float, float]
    unit: str
    doc: str
    integer: bool = False


def _p(default, lo, hi, unit: str, doc: str, integer: bool = False):
    return field(default=default, metadata={"bounds": (lo, hi), "unit": unit, "doc": doc,
                                            "integer": integer})


@dataclass(frozen=True)
class SimulationParams:
    # ---- behaviour: the forward/reverse switch and the slow state ------------------------------
    forward_run_s: float = _p(11.0, 3.0, 120.0, "s", "Mean forward run between reversals "
                              "outside stimuli (sets how often the worm reverses).")
    reversal_s: float = _p(3.5, 0.6, 20.0, "s", "Mean length of a reversal.")
    refractory_s: float = _p(7.0, 0.0, 30.0, "s", "After a reversal the next one becomes likely "
                             "only gradually, over about this long.")
    stimulus_reversal_gain: float = _p(2.5, 1.0, 10.0, "x", "How much more often the worm "
                                       "reverses while a stimulus pulse is on.")
    arousal_bout_s: float = _p(60.0, 5.0, 600.0, "s", "Mean length of a roaming or a "
                               "dwelling bout (the slow arousal state that sets speed and "
                               "reversal rate).")
    arousal_transition_s: float = _p(8.0, 0.5, 120.0, "s", "How long the switch between "
                                     "roaming and dwelling takes.")
    arousal_reversal_gain: float = _p(0.2, 0.0, 2.0, "", "How strongly low arousal makes "
                                      "reversals more likely (log-hazard per s.d. of arousal).")
    head_swing_period_s: float = _p(6.0, 1.0, 30.0, "s", "Period of the head-swing rhythm the "
                                    "head motor neurons (SMD, RMD) are driven by.")
    head_swing_coherence_s: float = _p(6.0, 0.5, 60.0, "s", "How long the head-swing rhythm "
                                       "keeps its phase before drifting.")
    steering_tau_s: float = _p(30.0, 1.0, 300.0, "s", "Timescale of slow steering, the part of "
                               "the head angle that is not the rhythm (turns, curving runs).")
    steering_share: float = _p(0.5, 0.0, 1.0, "", "Share of the head angle's variance that is "
                               "slow steering rather than the head-swing rhythm.")
    feeding_tau_s: float = _p(20.0, 2.0, 600.0, "s", "Timescale of the slow feeding state that "
                              "drives the pharyngeal neurons.")
    # ---- how strongly neurons follow the behavioural latents ------------------------------------
    command_drive: float = _p(2.5, 0.0, 5.0, "", "Drive of the forward/reversal command state "
                              "on the command interneurons and motor neurons.")
    arousal_drive: float = _p(2.0, 0.0, 5.0, "", "Drive of the slow arousal state on the forward "
                              "and reversal command neurons (opposite signs).")
    head_drive: float = _p(1.6, 0.0, 5.0, "", "Drive of the head-swing rhythm on SMD/RMD "
                           "(ventral +, dorsal -).")
    sensory_drive: float = _p(2.5, 0.0, 5.0, "", "Drive of a stimulus pulse on its sensory module.")
    encoding_fraction: float = _p(0.9, 0.0, 1.0, "", "Fraction of the other neurons that encode "
                                  "a behavioural state (Atanas et al. 2023 found most do).")
    encoding_drive: float = _p(1.8, 0.0, 5.0, "", "Strength of those neurons' encoding.")
    encoding_tau_min_s: float = _p(4.0, 0.1, 60.0, "s", "Shortest timescale over which a "
                                   "neuron integrates the state it encodes.")
    encoding_tau_max_s: float = _p(90.0, 1.0, 300.0, "s", "Longest timescale over which a neuron "
                                   "integrates the state it encodes (seconds to minutes).")
    wiring_share: float = _p(0.5, 0.0, 1.0, "", "Share of a neuron's encoding taken from its "
                             "synaptic partners (wired neurons encode alike).")
    # ---- the network -------------------------------------------------------------------------------
    coupling: float = _p(0.8, 0.0, 3.0, "", "Weight of synaptic partners' activity (Cook 2019 "
                         "connectome, each neuron's inputs normalised to sum 1).")
    tau_rate_s: float = _p(1.0, 0.2, 10.0, "s", "Time constant of each neuron's activity.")
    gain: float = _p(1.25, 0.5, 10.0, "", "Slope of the activity's sigmoid.")
    private_noise: float = _p(0.7, 0.0, 5.0, "", "Size of each neuron's private fluctuations "
                              "(higher: less of each trace follows the shared states).")
    private_noise_tau_s: float = _p(300.0, 0.2, 600.0, "s", "Timescale of those private "
                                    "fluctuations (neuronal state drifts slowly).")
    # ---- the calcium indicator and the microscope --------------------------------------------------
    tau_rise_s: float = _p(0.4, 0.05, 5.0, "s", "GCaMP rise time.")
    tau_decay_s: float = _p(3.0, 0.1, 20.0, "s", "GCaMP decay time (slower: smoother traces).")
    dff_gain: float = _p(1.5, 0.1, 10.0, "", "Fluorescence change at full activity (dF/F).")
    measurement_noise: float = _p(0.02, 0.0, 1.0, "F0", "Camera noise on the fluorescence.")
    # ---- the experiment ----------------------------------------------------------------------------
    stimulus_period_s: float = _p(60.0, 10.0, 600.0, "s", "Salt and oxygen pulses alternate, "
                                  "each once per period.")
    stimulus_length_s: float = _p(10.0, 1.0, 60.0, "s", "Length of each stimulus pulse.")
    recorded_min: int = _p(120, 2, 192, "neurons", "Fewest neurons recorded in one worm "
                           "(of the 192 in the head's field of view; fewer: noisier statistics).",
                           True)
    recorded_max: int = _p(150, 2, 192, "neurons", "Most neurons recorded in one worm.", True)

    def __post_init__(self):
        for spec in parameter_specs():
            value = getattr(self, spec.name)
            lo, hi = spec.bounds
            if not lo <= value <= hi:
                raise InvalidInputError(f"simulation parameter {spec.name} must be within "
                                        f"[{lo}, {hi}] {spec.unit}, got {value}")
        if self.recorded_min > self.recorded_max:
            raise InvalidInputError("recorded_min must not exceed recorded_max")
        if self.stimulus_length_s > self.stimulus_period_s / 2:
            raise InvalidInputError("a stimulus pulse must fit in half the stimulus period")

    def replace(self, **changes) -> "SimulationParams":
        return dataclasses.replace(self, **changes)


def parameter_specs() -> tuple[ParamSpec, ...]:
    """Every simulation parameter, in declaration order."""
    return tuple(ParamSpec(f.name, f.default, f.metadata["bounds"], f.metadata["unit"],
                           f.metadata["doc"], f.metadata["integer"])
                 for f in dataclasses.fields(SimulationParams))


SHAPING = ("forward_run_s", "reversal_s", "arousal_bout_s", "head_swing_period_s",
           "command_drive", "encoding_fraction", "encoding_tau_max_s", "coupling",
           "private_noise", "private_noise_tau_s", "tau_decay_s")
"""The parameters that shape the compared statistics most (reversal rate and length, slowness,
shared variance): the ones the room's "Simulated worms" card should offer."""
