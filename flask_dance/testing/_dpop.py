"""DPoP (RFC 9449) at the local provider: proofs checked at the token
endpoint and the protected resources, DPoP-bound tokens, and nonces."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import typing as t

import jwt
from flask import request
from flask import Response

#: The proof signature algorithms accepted.
ALGORITHMS = ("ES256", "RS256", "PS256")

#: How far a proof's ``iat`` may be from now, in seconds.
IAT_WINDOW = 60


class ProofError(Exception):
    """A DPoP proof is missing a nonce, or is not valid.

    :param error: ``use_dpop_nonce`` or ``invalid_dpop_proof``.
    :param description: Why.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: t.Mapping[str, t.Any]) -> str:
    """The RFC 7638 thumbprint of a public JWK."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
    members = {name: jwk[name] for name in required[str(jwk["kty"])]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("ascii")).digest())


def check_proof(provider: t.Any, *, access_token: str | None = None) -> str | None:
    """Check the current request's DPoP proof; return its key's thumbprint,
    or ``None`` when the request carries no proof.

    :raises ProofError: for a proof that is not valid, or lacks the nonce
        the provider asks for.
    """
    proof = request.headers.get("DPoP")
    if proof is None:
        return None
    try:
        header = jwt.get_unverified_header(proof)
        jwk = header.get("jwk")
        if (
            header.get("typ") != "dpop+jwt"
            or header.get("alg") not in ALGORITHMS
            or not isinstance(jwk, dict)
            or "d" in jwk
        ):
            raise ProofError("invalid_dpop_proof", "Bad DPoP proof header.")
        key = jwt.PyJWK(jwk, algorithm=header["alg"])
        claims = jwt.decode(
            proof,
            key.key,
            algorithms=[header["alg"]],
            options={"require": ["jti", "htm", "htu", "iat"], "verify_aud": False},
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise ProofError("invalid_dpop_proof", f"Bad DPoP proof: {exc}") from None
    if claims["htm"] != request.method or claims["htu"] != request.base_url:
        raise ProofError("invalid_dpop_proof", "The proof is for another request.")
    if abs(time.time() - float(claims["iat"])) > IAT_WINDOW:
        raise ProofError("invalid_dpop_proof", "The proof is too old or too new.")
    if access_token is not None:
        digest = _b64(hashlib.sha256(access_token.encode("ascii")).digest())
        if claims.get("ath") != digest:
            raise ProofError("invalid_dpop_proof", "The proof's 'ath' does not match.")
    if provider.dpop_nonces and claims.get("nonce") != provider.dpop_nonce:
        raise ProofError("use_dpop_nonce", "Use the server's DPoP nonce.")
    store = provider._oauth2_store
    with store.lock:
        if claims["jti"] in store.used_dpop_jtis:
            raise ProofError("invalid_dpop_proof", "The proof was already used.")
        store.used_dpop_jtis.add(str(claims["jti"]))
    return thumbprint(jwk)


def token_error(provider: t.Any, exc: ProofError) -> Response:
    """The token endpoint's answer to a refused proof (RFC 9449 5, 8)."""
    headers = {"Cache-Control": "no-store"}
    if exc.error == "use_dpop_nonce":
        headers["DPoP-Nonce"] = provider.dpop_nonce
    body = json.dumps({"error": exc.error, "error_description": exc.description})
    return Response(body, 400, headers, content_type="application/json")


def resource_error(provider: t.Any, error: str, description: str) -> Response:
    """A protected resource's answer to a refused DPoP request (RFC 9449 7.1,
    9)."""
    headers = {
        "WWW-Authenticate": f'DPoP error="{error}", algs="{" ".join(ALGORITHMS)}"'
    }
    if error == "use_dpop_nonce":
        headers["DPoP-Nonce"] = provider.dpop_nonce
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, 401, headers, content_type="application/json")
