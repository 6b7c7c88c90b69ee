"""The typed errors every engine raises for bad input or failed computation.

Rooms catch ``EngineError`` and show its message to the user; anything else is a bug and its
traceback goes to the server log.
"""


class EngineError(Exception):
    """Base class: the message is written for the person using the lab."""


class InvalidInputError(EngineError, ValueError):
    """A file, array or parameter the engine cannot work with (wrong format, shape, range)."""


class DivergenceError(EngineError, RuntimeError):
    """Training or simulation blew up (NaN, runaway); the last good state was restored."""
