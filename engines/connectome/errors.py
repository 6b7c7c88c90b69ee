"""Typed errors of the dynamic-connectome engine, raised before any long computation starts."""
from engines.errors import InvalidInputError


class TooFewNeuronsError(InvalidInputError):
    """Fewer neurons (or neuron pairs) than the analysis needs, e.g. for the chosen rank."""


class TooFewWindowsError(InvalidInputError):
    """The recordings yield fewer sliding windows than the analysis needs."""


class NoSharedNeuronsError(InvalidInputError):
    """The recordings have no labelled neurons in common, so no pair can be compared across worms."""


class AllNaNTracesError(InvalidInputError):
    """A recording holds no finite sample at all."""


class UnidentifiedNeuronsError(InvalidInputError):
    """A recording's traces carry no neuron identities (a Flavell file without its label table)."""
