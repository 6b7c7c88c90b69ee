"""Hyper-parameters of a reservoir and of its local adaptation, validated on construction."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engines.errors import InvalidInputError

ACTIVATIONS = ("sigmoid", "tanh", "linear")
TARGET_KINDS = ("homogeneous", "uniform", "beta")


class InvalidParameterError(InvalidInputError):
    """A reservoir or adaptation parameter outside its allowed range."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidParameterError(message)


def _finite(name: str, value: float) -> None:
    _check(isinstance(value, (int, float)) and math.isfinite(value), f"{name} must be a finite number, got {value!r}")


def _fraction(name: str, value: float) -> None:
    _finite(name, value)
    _check(0.0 <= value <= 1.0, f"{name} is a fraction and must lie in [0, 1], got {value}")


@dataclass(frozen=True)
class ReservoirParams:
    """One reservoir: Dale's-law E/I network of rate units (defaults follow the research notes).

    balance is g = I/E (beta = 1 - g): g = 1 balanced, g < 1 excitation-dominated.
    leak is the fraction of the state replaced each step (1 = no memory in the unit itself).
    """
    n: int = 500
    frac_excitatory: float = 0.8
    in_degree: int = 50
    weight_cv: float = 0.2
    activation: str = "sigmoid"
    gain: float = 10.0
    threshold: float = 0.0
    leak: float = 1.0
    frac_input: float = 0.3
    input_scale: float = 0.5
    n_inputs: int = 1
    balance: float = 1.0
    gap_scale: float = 0.0
    seed: int = 0

    def __post_init__(self):
        _check(isinstance(self.n, int) and self.n >= 2, f"a reservoir needs at least 2 neurons (n >= 2), got {self.n!r}")
        _fraction("frac_excitatory", self.frac_excitatory)
        _fraction("frac_input", self.frac_input)
        _check(isinstance(self.in_degree, int) and 1 <= self.in_degree <= self.n - 1,
               f"in_degree must be an integer in [1, n - 1] = [1, {self.n - 1}], got {self.in_degree!r}")
        _check(isinstance(self.n_inputs, int) and self.n_inputs >= 1, f"n_inputs must be >= 1, got {self.n_inputs!r}")
        _check(self.activation in ACTIVATIONS, f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("weight_cv", "gain", "threshold", "input_scale", "balance", "gap_scale", "leak"):
            _finite(name, getattr(self, name))
        _check(self.weight_cv >= 0, f"weight_cv must be >= 0, got {self.weight_cv}")
        _check(self.gain > 0, f"gain must be > 0, got {self.gain}")
        _check(self.input_scale >= 0, f"input_scale must be >= 0, got {self.input_scale}")
        _check(self.balance >= 0, f"balance g = I/E must be >= 0, got {self.balance}")
        _check(self.gap_scale >= 0, f"gap_scale must be >= 0, got {self.gap_scale}")
        _check(0 < self.leak <= 1, f"leak must lie in (0, 1], got {self.leak}")

    @property
    def beta(self) -> float:
        """1 - g: > 0 excitation-dominated, < 0 inhibition-dominated."""
        return 1.0 - self.balance

    def with_(self, **changes) -> "ReservoirParams":
        return replace(self, **changes)


@dataclass(frozen=True)
class AdaptationParams:
    """Local inhibitory plasticity: every inhibitory input of neuron i moves by lr * (r_i - rho_i).

    Targets rho_i are homogeneous (target_rate) or drawn per neuron from U[low, high] or
    Beta(a, b) scaled into [low, high]. The learning rate is lr_fast for the first
    switch_step steps, then lr_slow.
    """
    targets: str = "uniform"
    target_rate: float = 0.2
    target_low: float = 0.05
    target_high: float = 0.5
    beta_a: float = 2.0
    beta_b: float = 2.0
    lr_fast: float = 1e-2
    lr_slow: float = 1e-3
    switch_step: int = 1000

    def __post_init__(self):
        _check(self.targets in TARGET_KINDS, f"targets must be one of {TARGET_KINDS}, got {self.targets!r}")
        for name in ("target_rate", "target_low", "target_high"):
            value = getattr(self, name)
            _finite(name, value)
            _check(value >= 0, f"{name} is a firing rate and cannot be negative, got {value}")
            _check(value <= 1, f"{name} must be <= 1 (rates are in [0, 1]), got {value}")
        _check(self.target_low <= self.target_high, f"target_low ({self.target_low}) must not exceed target_high ({self.target_high})")
        for name in ("beta_a", "beta_b", "lr_fast", "lr_slow"):
            _finite(name, getattr(self, name))
        _check(self.beta_a > 0 and self.beta_b > 0, "beta_a and beta_b must be > 0")
        _check(self.lr_fast >= 0 and self.lr_slow >= 0, "learning rates must be >= 0")
        _check(isinstance(self.switch_step, int) and self.switch_step >= 0, f"switch_step must be an integer >= 0, got {self.switch_step!r}")

    def learning_rate(self, step: int) -> float:
        return self.lr_fast if step < self.switch_step else self.lr_slow
