"""Lines in voxgate's log, tagged by voxgate with tenant, plugin, version and call.

Never log secrets. ``print`` works too but goes to the instance's stderr, which voxgate
does not keep; use these.
"""

from wit_world.imports.host import Level
from wit_world.imports.host import log as _log

__all__ = ["trace", "debug", "info", "warn", "error"]


def trace(message: str) -> None:
    _log(Level.TRACE, message)


def debug(message: str) -> None:
    _log(Level.DEBUG, message)


def info(message: str) -> None:
    _log(Level.INFO, message)


def warn(message: str) -> None:
    _log(Level.WARN, message)


def error(message: str) -> None:
    _log(Level.ERROR, message)
