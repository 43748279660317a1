"""Names from JOSE (RFC 7518, RFC 8037, RFC 9864) that the OpenID Connect
code shares. A leaf module: it needs neither PyJWT nor cryptography."""

from __future__ import annotations

import typing as t

#: The asymmetric signature algorithms: RSA, RSA-PSS, ECDSA and EdDSA (also
#: by its RFC 9864 name for Ed25519). ``none`` and the ``HS*`` family, whose
#: key is a shared secret, are not among them.
ASYMMETRIC_ALGS: t.Final[tuple[str, ...]] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
