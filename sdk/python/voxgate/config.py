"""The tenant's settings and secrets, as the operator configured them for this plugin."""

from typing import Optional

from wit_world.imports import host

from .errors import internal

__all__ = ["get", "require", "secret"]


def get(key: str) -> Optional[str]:
    """A setting, or None when the tenant has not set it."""
    return host.config(key)


def require(key: str) -> str:
    """A setting the plugin cannot work without.

    A missing one raises an `internal` error naming the key, so the operator sees what
    to configure (the same case and text as the Rust SDK's ``config::require``).
    """
    value = host.config(key)
    if value is None:
        raise internal(f"tenant setting `{key}` is not configured")
    return value


def secret(key: str) -> Optional[str]:
    """A secret (API key, password), or None. Do not log it."""
    return host.secret(key)
