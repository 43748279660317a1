"""Reset the process-wide caches of this package."""

from __future__ import annotations

from .discovery import _default_cache
from .jwks import clear_jwks_caches


def clear_caches() -> None:
    """Forget all process-wide provider metadata and key sets (for tests)."""
    _default_cache.clear()
    clear_jwks_caches()
