"""Provider metadata (OpenID Connect Discovery 1.0 and RFC 8414):
:class:`ProviderMetadata`, a validated, read-only document. Fetching and
caching it is :mod:`.discovery`'s job, which re-exports the class."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ._http import check_url
from ._http import FetchFailed
from .errors import DiscoveryError

_URL_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "end_session_endpoint",
    "introspection_endpoint",
    "pushed_authorization_request_endpoint",
)
_LIST_FIELDS = (
    "code_challenge_methods_supported",
    "id_token_signing_alg_values_supported",
    "response_modes_supported",
    "response_types_supported",
    "grant_types_supported",
    "scopes_supported",
    "claims_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "acr_values_supported",
    "dpop_signing_alg_values_supported",
)
_BOOL_FIELDS = (
    "authorization_response_iss_parameter_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "require_pushed_authorization_requests",
)


def _bad_field(source: str, name: str, why: object) -> DiscoveryError:
    """The error for the metadata field ``name`` that has the wrong type or
    value, and ``why``."""
    return DiscoveryError(
        "discovery_failed",
        f"The metadata at '{source}' has a bad '{name}': {why}.",
        url=source,
    )


class ProviderMetadata:
    """Validated, read-only metadata of one authorization server.

    Build it with :func:`get_provider_metadata`, :func:`fetch_provider_metadata`
    or, for a provider without discovery, :meth:`from_dict`.

    :param data: The metadata document.
    :param expected_issuer: The configured issuer; ``data["issuer"]`` must
        equal it exactly.
    :param source: Where the document came from, used in error messages.
    :param allow_insecure: Accept ``http://`` endpoint URLs (development only).
    :raises DiscoveryError: ``"issuer_mismatch"`` or ``"discovery_failed"``
        when a field has the wrong type or an endpoint is not an https URL.
    """

    def __init__(
        self,
        data: cabc.Mapping[str, t.Any],
        *,
        expected_issuer: str,
        source: str = "<static>",
        allow_insecure: bool = False,
    ) -> None:
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise DiscoveryError(
                "discovery_failed",
                f"The metadata at '{source}' has no 'issuer'.",
                url=source,
            )
        if issuer != expected_issuer:
            raise DiscoveryError(
                "issuer_mismatch",
                f"The metadata at '{source}' names the issuer '{issuer}', but"
                f" '{expected_issuer}' is configured. They must be equal exactly"
                " (OpenID Connect Discovery 4.3); check the configured issuer.",
                url=source,
            )
        for name in _URL_FIELDS:
            value = data.get(name)
            if value is None:
                continue
            try:
                if not isinstance(value, str):
                    raise FetchFailed(f"'{name}' is not a string")
                check_url(value, allow_insecure=allow_insecure)
            except FetchFailed as exc:
                raise _bad_field(source, name, exc) from None
        for name in _LIST_FIELDS:
            value = data.get(name)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise _bad_field(source, name, "not a list of strings")
        for name in _BOOL_FIELDS:
            value = data.get(name)
            if value is not None and not isinstance(value, bool):
                raise _bad_field(source, name, "not a boolean")
        #: A copy of the whole document.
        self.raw: dict[str, t.Any] = dict(data)
        #: The URL the document was fetched from (``"<static>"`` if built).
        self.source: str = source

    @classmethod
    def from_dict(
        cls,
        data: cabc.Mapping[str, t.Any],
        *,
        allow_insecure: bool = False,
    ) -> ProviderMetadata:
        """Build metadata from a static document whose ``issuer`` is trusted.

        :param data: The document; it must contain ``issuer``.
        :param allow_insecure: Accept ``http://`` endpoint URLs.
        """
        issuer = data.get("issuer")
        return cls(
            data,
            expected_issuer=issuer if isinstance(issuer, str) else "",
            allow_insecure=allow_insecure,
        )

    def __repr__(self) -> str:
        return f"<ProviderMetadata {self.issuer!r}>"

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return the raw metadata value ``name``, or ``default``."""
        return self.raw.get(name, default)

    def _str(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value if isinstance(value, str) else None

    def _list(self, name: str) -> tuple[str, ...] | None:
        value = self.raw.get(name)
        return tuple(value) if isinstance(value, list) else None

    @property
    def issuer(self) -> str:
        """The issuer identifier (equal to the configured one)."""
        return t.cast(str, self.raw["issuer"])

    @property
    def authorization_endpoint(self) -> str | None:
        """``authorization_endpoint``, or ``None``."""
        return self._str("authorization_endpoint")

    @property
    def token_endpoint(self) -> str | None:
        """``token_endpoint``, or ``None``."""
        return self._str("token_endpoint")

    @property
    def userinfo_endpoint(self) -> str | None:
        """``userinfo_endpoint``, or ``None``."""
        return self._str("userinfo_endpoint")

    @property
    def jwks_uri(self) -> str | None:
        """``jwks_uri``, or ``None``."""
        return self._str("jwks_uri")

    @property
    def revocation_endpoint(self) -> str | None:
        """``revocation_endpoint`` (RFC 7009), or ``None``."""
        return self._str("revocation_endpoint")

    @property
    def introspection_endpoint(self) -> str | None:
        """``introspection_endpoint`` (RFC 7662), or ``None``."""
        return self._str("introspection_endpoint")

    @property
    def pushed_authorization_request_endpoint(self) -> str | None:
        """``pushed_authorization_request_endpoint`` (RFC 9126), or ``None``."""
        return self._str("pushed_authorization_request_endpoint")

    @property
    def require_pushed_authorization_requests(self) -> bool:
        """Whether the server accepts only pushed authorization requests."""
        return self.raw.get("require_pushed_authorization_requests") is True

    @property
    def end_session_endpoint(self) -> str | None:
        """``end_session_endpoint`` (RP-Initiated Logout), or ``None``."""
        return self._str("end_session_endpoint")

    @property
    def code_challenge_methods_supported(self) -> tuple[str, ...] | None:
        """PKCE methods the server announces, or ``None`` when absent."""
        return self._list("code_challenge_methods_supported")

    @property
    def authorization_response_iss_parameter_supported(self) -> bool:
        """Whether the server sends ``iss`` on the redirect (RFC 9207)."""
        return self.raw.get("authorization_response_iss_parameter_supported") is True

    @property
    def id_token_signing_alg_values_supported(self) -> tuple[str, ...] | None:
        """ID token signing algorithms the server announces, or ``None``."""
        return self._list("id_token_signing_alg_values_supported")

    @property
    def response_modes_supported(self) -> tuple[str, ...] | None:
        """Response modes the server announces, or ``None`` when absent."""
        return self._list("response_modes_supported")

    @property
    def token_endpoint_auth_methods_supported(self) -> tuple[str, ...] | None:
        """Client authentication methods at the token endpoint, or ``None``."""
        return self._list("token_endpoint_auth_methods_supported")

    def supports_pkce_s256(self) -> bool:
        """Whether the server announces PKCE with ``S256``.

        When this is false the client must still rely on ``state`` (it always
        sends PKCE S256 anyway; the metadata only says whether PKCE can be
        counted on as a CSRF defence).
        """
        return "S256" in (self.code_challenge_methods_supported or ())

    def requires_iss_parameter(self) -> bool:
        """Whether a callback without ``iss`` must be rejected (RFC 9207 2.4)."""
        return self.authorization_response_iss_parameter_supported
