"""Check that the optional OpenID Connect dependencies are installed.

This module is imported first by the package, so a missing PyJWT or
cryptography ends in one clear :exc:`ImportError` instead of a bare
``No module named 'jwt'`` from deep inside.
"""

from __future__ import annotations

import importlib

_missing_msg = (
    "OpenID Connect support needs {names}. Install the 'oidc' extra:"
    " pip install Flask-Dance[oidc]"
)


def require_oidc_dependencies() -> None:
    """Raise :exc:`ImportError` unless PyJWT and cryptography are importable.

    :raises ImportError: naming the missing packages and the ``oidc`` extra.
    """
    missing: list[str] = []
    causes: list[BaseException] = []
    for module, dist in (("jwt", "'PyJWT'"), ("cryptography", "'cryptography'")):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(dist)
            causes.append(exc)
    if not missing:
        from jwt.algorithms import has_crypto

        if has_crypto:
            return
        missing.append("'cryptography'")
    raise ImportError(_missing_msg.format(names=" and ".join(missing))) from (
        causes[0] if causes else None
    )


require_oidc_dependencies()
