"""Plain data records of the local provider: users, clients, faults, results."""

from __future__ import annotations

import dataclasses
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

#: Client authentication methods the token and revocation endpoints know.
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


@dataclasses.dataclass
class User:
    """A resource owner of the local provider.

    :param login: The unique user name, shown in the consent page's picker and
        returned as ``login`` by ``/user``.
    :param name: The display name (``name`` claim).
    :param email: The primary email address (``email`` claim).
    :param id: The numeric id returned by ``/user``; ``0`` picks the next free one.
    :param sub: The OpenID Connect subject; defaults to ``str(id)``.
    :param email_verified: The ``email_verified`` claim and the ``verified`` flag
        of the primary address in ``/user/emails``.
    :param emails: The list served by ``/user/emails``; defaults to the primary
        address alone.
    :param claims: Extra claims added to the id_token and to ``/userinfo``.
    """

    login: str
    name: str = ""
    email: str = ""
    id: int = 0
    sub: str | None = None
    email_verified: bool = True
    emails: list[dict[str, t.Any]] | None = None
    claims: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def subject(self) -> str:
        """The ``sub`` claim of this user."""
        return self.sub if self.sub is not None else str(self.id)

    def profile(self) -> dict[str, t.Any]:
        """The body of ``GET /user``, shaped like GitHub's."""
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "email": self.email,
        }

    def email_list(self) -> list[dict[str, t.Any]]:
        """The body of ``GET /user/emails``."""
        if self.emails is not None:
            return [dict(e) for e in self.emails]
        if not self.email:
            return []
        return [{"email": self.email, "primary": True, "verified": self.email_verified}]


@dataclasses.dataclass
class Client:
    """An OAuth 2 client registered with the local provider.

    A redirect URI entry that contains ``*`` is a shell-style pattern (see
    :func:`fnmatch.fnmatchcase`); every other entry must match exactly.

    :param client_id: The client identifier.
    :param client_secret: The secret; ``None`` makes a public client, which
        authenticates with its ``client_id`` alone (method ``none``).
    :param redirect_uris: Registered redirect URIs or patterns.
    :param name: The name shown on the consent page.
    :param post_logout_redirect_uris: URIs accepted by the end-session endpoint
        (exact match).
    :param require_pkce: Refuse authorization requests without a PKCE challenge.
    :param auth_methods: The client authentication methods this client may use
        at the token and revocation endpoints.
    :param jwks: A JWK set (``{"keys": [...]}``) of public keys for
        ``private_key_jwt`` client authentication.
    :param scopes: The scopes this client may ask for; ``None`` allows any.
    :param default_scopes: Scopes used when the request names none.
    :param backchannel_logout_uri: Where the provider POSTs logout tokens.
    :param require_dpop: Refuse token requests without a DPoP proof.
    """

    client_id: str
    client_secret: str | None = None
    redirect_uris: list[str] = dataclasses.field(default_factory=list)
    name: str = ""
    post_logout_redirect_uris: list[str] = dataclasses.field(default_factory=list)
    require_pkce: bool = False
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    jwks: dict[str, t.Any] | None = None
    scopes: list[str] | None = None
    default_scopes: list[str] = dataclasses.field(default_factory=list)
    backchannel_logout_uri: str | None = None
    require_dpop: bool = False

    @property
    def is_public(self) -> bool:
        """Whether the client has no credentials (no secret and no keys)."""
        return self.client_secret is None and not self.jwks

    @property
    def display_name(self) -> str:
        """The name shown to the user."""
        return self.name or self.client_id


@dataclasses.dataclass
class OAuth1Client:
    """An OAuth 1.0a client (consumer) registered with the local provider.

    :param client_key: The consumer key.
    :param client_secret: The consumer secret (HMAC signature methods).
    :param callback_uris: Accepted ``oauth_callback`` values or ``*`` patterns;
        ``"oob"`` must be listed to allow out-of-band verifiers.
    :param name: The name shown on the consent page.
    :param rsa_key: A PEM public key for the ``RSA-SHA*`` signature methods.
    """

    client_key: str
    client_secret: str = ""
    callback_uris: list[str] = dataclasses.field(default_factory=list)
    name: str = ""
    rsa_key: str | None = None

    @property
    def display_name(self) -> str:
        """The name shown to the user."""
        return self.name or self.client_key


def _empty_set() -> set[str]:
    return set()


@dataclasses.dataclass
class Faults:
    """Hostile behaviour of the local provider, settable while it runs.

    Endpoint names used by :attr:`status_500_on`, :attr:`garbage_on` and
    :attr:`delay_on` (and by :attr:`LocalProvider.calls`): ``discovery``,
    ``jwks``, ``authorize`` (GET of the authorization endpoint), ``consent``
    (the POST of the consent form), ``token`` (every token request),
    ``exchange`` (``authorization_code`` grant only), ``refresh``
    (``refresh_token`` grant only), ``revoke``, ``userinfo``, ``user``,
    ``user_emails``, ``logout``, ``oauth1_request_token``, ``oauth1_authorize``,
    ``oauth1_consent``, ``oauth1_access_token``, ``oauth1_user`` and
    ``oauth1_user_emails``.

    In the claim override dictionaries a value of ``None`` removes the claim.
    Call :meth:`reset` to return to correct behaviour.
    """

    #: Answer every authorization request with ``error=access_denied``
    #: (OAuth 1: ``denied=<token>``) without showing the consent page.
    deny_all: bool = False
    #: Answer every authorization request with this ``error`` code.
    authorize_error: str | None = None
    #: The ``error_description`` sent with :attr:`authorize_error`.
    authorize_error_description: str | None = None
    #: Send this ``iss`` on the authorization response instead of the issuer.
    response_iss: str | None = None
    #: Send no ``iss`` on the authorization response.
    omit_response_iss: bool = False
    #: Answer ``authorization_code`` token requests with this error code.
    token_error: str | None = None
    #: Answer ``refresh_token`` token requests with this error code.
    refresh_error: str | None = None
    #: Merged into every successful token response (``None`` removes a key).
    token_response_overrides: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: Merged into successful refresh responses, after the one above.
    refresh_response_overrides: dict[str, t.Any] = dataclasses.field(
        default_factory=dict
    )
    #: Put this ``iss`` in id_tokens.
    id_token_iss: str | None = None
    #: Put this ``aud`` (a string or a list) in id_tokens.
    id_token_aud: str | list[str] | None = None
    #: Put this ``azp`` in id_tokens.
    id_token_azp: str | None = None
    #: Put this ``nonce`` in id_tokens instead of the one from the request.
    id_token_nonce: str | None = None
    #: Put this ``sub`` in id_tokens.
    id_token_sub: str | None = None
    #: Issue id_tokens that expired a minute ago.
    id_token_expired: bool = False
    #: Seconds added to ``iat`` (negative: issued in the past).
    id_token_iat_offset: int = 0
    #: Seconds added to ``auth_time`` (negative: authenticated long ago).
    id_token_auth_time_offset: int = 0
    #: Put this ``at_hash`` in id_tokens.
    id_token_at_hash: str | None = None
    #: Signature algorithm: ``"RS256"`` (correct), ``"none"`` (unsigned) or
    #: ``"HS256"`` (HMAC keyed with the public key's PEM: alg confusion).
    id_token_alg: str = "RS256"
    #: Put this ``kid`` in the id_token header.
    id_token_kid: str | None = None
    #: Sign id_tokens with a throwaway key (under the real ``kid``).
    id_token_bad_signature: bool = False
    #: Claims merged into every id_token.
    id_token_claims: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: Claims merged into id_tokens issued on refresh, after the one above.
    refresh_id_token_claims: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: Leave the id_token out of token responses.
    omit_id_token: bool = False
    #: Put this ``sub`` in ``/userinfo`` responses.
    userinfo_sub: str | None = None
    #: Claims merged into ``/userinfo`` responses.
    userinfo_claims: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: Merged into the discovery documents (``None`` removes a key).
    metadata_overrides: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: Endpoint names that answer ``500 Internal Server Error``.
    status_500_on: set[str] = dataclasses.field(default_factory=_empty_set)
    #: Endpoint names that answer ``200`` with a body that is not JSON.
    garbage_on: set[str] = dataclasses.field(default_factory=_empty_set)
    #: Endpoint name to a delay in seconds before the answer.
    delay_on: dict[str, float] = dataclasses.field(default_factory=dict)

    def reset(self) -> None:
        """Return every knob to its default (correct behaviour)."""
        for field in dataclasses.fields(self):
            if field.default is not dataclasses.MISSING:
                setattr(self, field.name, field.default)
            else:
                factory = t.cast("t.Callable[[], t.Any]", field.default_factory)
                setattr(self, field.name, factory())


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request received by the local provider, for assertions."""

    #: The endpoint names of the request (see :class:`Faults`).
    names: tuple[str, ...]
    #: The HTTP method.
    method: str
    #: The full URL as received.
    url: str
    #: The query arguments (last value wins).
    args: dict[str, str]
    #: The form body fields (last value wins).
    form: dict[str, str]
    #: The request headers.
    headers: dict[str, str]
    #: For token and revocation requests: the client authentication method
    #: used (``client_secret_basic``, ``client_secret_post``,
    #: ``private_key_jwt`` or ``none``).
    client_auth: str | None = None


@dataclasses.dataclass(frozen=True)
class AuthorizationResult:
    """Where the provider sent the user agent after the consent step.

    Built by :meth:`LocalProvider.authorize`.
    """

    #: ``"GET"`` for a redirect, ``"POST"`` for ``response_mode=form_post``.
    method: str
    #: For ``GET``, the full ``Location``; for ``POST``, the form's action.
    url: str
    #: The response parameters (``code``, ``state``, ``iss`` or ``error``...).
    params: dict[str, str]

    @property
    def redirect_uri(self) -> str:
        """The URL without the response parameters that the provider added."""
        if self.method == "POST":
            return self.url
        parts = urlsplit(self.url)
        kept = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in self.params
        ]
        return parts._replace(query=urlencode(kept)).geturl()

    @property
    def code(self) -> str | None:
        """The authorization code, if any."""
        return self.params.get("code")

    @property
    def state(self) -> str | None:
        """The echoed state, if any."""
        return self.params.get("state")

    @property
    def error(self) -> str | None:
        """The error code, if the request was refused."""
        return self.params.get("error")
