"""The WIT `error` cases as exceptions a plugin raises.

An exported function fails by raising ``componentize_py_types.Err(case)``; these helpers
build that exception, so plugin code reads ``raise errors.not_found("no such order")``.
Anything else a method raises is turned into `internal` by the build (see ``_entry``).
The message is for logs and operators: voxgate never reads it to the caller, it picks
what the caller hears from the case.
"""

from componentize_py_types import Err
from wit_world.imports.voxgate_plugin_types import (
    Error_Conflict,
    Error_Denied,
    Error_Internal,
    Error_Invalid,
    Error_NotFound,
    Error_Unavailable,
)

__all__ = [
    "Err",
    "not_found",
    "invalid",
    "unavailable",
    "conflict",
    "denied",
    "internal",
]


def not_found(message: str) -> Err:
    """The thing asked for does not exist (unknown phone, order id, SKU)."""
    return Err(Error_NotFound(message))


def invalid(message: str) -> Err:
    """The request is wrong; asking again the same way will fail again."""
    return Err(Error_Invalid(message))


def unavailable(message: str) -> Err:
    """The tenant's system cannot be reached right now; a retry may succeed."""
    return Err(Error_Unavailable(message))


def conflict(message: str) -> Err:
    """The request clashes with the current state (out of stock, already shipped)."""
    return Err(Error_Conflict(message))


def denied(message: str) -> Err:
    """The caller may not do this."""
    return Err(Error_Denied(message))


def internal(message: str) -> Err:
    """Anything else that went wrong inside the plugin or the tenant's system."""
    return Err(Error_Internal(message))
