"""The OAuth 2 / OpenID Connect half of the local provider, on oauthlib's server."""

from __future__ import annotations

import base64
import binascii
import collections.abc as cabc
import dataclasses
import fnmatch
import hmac
import secrets
import threading
import time
import typing as t
from urllib.parse import unquote_plus

import jwt
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    code_challenge_method_s256,
)
from oauthlib.openid import RequestValidator
from oauthlib.openid import Server
from oauthlib.openid.connect.core.grant_types import (
    RefreshTokenGrant as OpenIDRefreshTokenGrant,
)

from ._crypto import decode_jwt
from ._crypto import encode_jws
from ._crypto import token_hash
from ._models import Client
from ._par import Pushed

if t.TYPE_CHECKING:  # pragma: no cover
    from oauthlib.oauth2.rfc6749.request_validator import _AuthorizationCode
    from oauthlib.oauth2.rfc6749.request_validator import _BearerToken

    from ._crypto import SigningKey
    from ._models import Faults
    from ._models import User

#: The ``client_assertion_type`` of RFC 7523 client authentication.
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: The endpoints a client assertion may name as its ``aud``, besides the issuer.
_ASSERTION_ENDPOINTS = ("/token", "/revoke", "/introspect", "/par")

_GRANT_KEY = "flask_dance.testing.grant"
_REFRESH_KEY = "flask_dance.testing.refresh"
#: Where :meth:`OAuth2Validator.validate_bearer_token` leaves why it said no.
REASON_KEY = "flask_dance.testing.reason"


class Provider(t.Protocol):
    """What the OAuth 2 half needs of the provider it serves: its settings,
    its users and clients, and its store. :class:`~.provider.LocalProvider`
    has all of it."""

    users: dict[str, User]
    clients: dict[str, Client]
    faults: Faults
    access_token_lifetime: int
    id_token_lifetime: int
    code_lifetime: int
    rotate_refresh_tokens: bool
    require_pkce: bool
    _oauth2_store: OAuth2Store

    @property
    def issuer(self) -> str: ...

    @property
    def signing_key(self) -> SigningKey: ...

    def _mint_id_token(
        self,
        grant: Grant,
        *,
        access_token: str | None,
        nonce: str | None,
        refresh: bool,
    ) -> str: ...


@dataclasses.dataclass
class Grant:
    """One approval by a user: the family of a code and the tokens from it."""

    grant_id: str
    client_id: str
    user: str
    scopes: list[str]
    auth_time: int
    nonce: str | None = None


@dataclasses.dataclass
class _Code:
    grant: Grant
    redirect_uri: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclasses.dataclass
class Token:
    """An access or refresh token record."""

    grant: Grant
    scopes: list[str]
    expires_at: float | None
    #: The thumbprint of the DPoP key an access token is bound to.
    jkt: str | None = None


@dataclasses.dataclass
class PendingAuthorization:
    """An authorization request waiting on the consent page."""

    uri: str
    scopes: list[str]
    client_id: str
    redirect_uri: str
    state: str | None
    response_mode: str
    login_hint: str | None
    expires_at: float


class OAuth2Store:
    """The in-memory codes, tokens and pending consents, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.pending: dict[str, PendingAuthorization] = {}
        self.used_jtis: set[str] = set()
        self.pushed: dict[str, Pushed] = {}
        self.used_dpop_jtis: set[str] = set()

    def clear(self) -> None:
        with self.lock:
            self.pushed.clear()
            self.used_dpop_jtis.clear()
            self.codes.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.pending.clear()
            self.used_jtis.clear()

    def revoke_grant(self, grant_id: str) -> None:
        """Drop every token issued from one approval."""
        with self.lock:
            for store in (self.access_tokens, self.refresh_tokens):
                for key in [
                    k for k, v in store.items() if v.grant.grant_id == grant_id
                ]:
                    del store[key]


def redirect_uri_allowed(registered: t.Iterable[str], uri: str) -> bool:
    """Whether ``uri`` matches a registered URI (exactly, or a ``*`` pattern)."""
    for entry in registered:
        if "*" in entry:
            if fnmatch.fnmatchcase(uri, entry):
                return True
        elif hmac.compare_digest(entry.encode(), uri.encode()):
            return True
    return False


def classify_client_auth(authorization: str, form: cabc.Mapping[str, str]) -> str:
    """Name the client authentication method a token request uses.

    :param authorization: The ``Authorization`` header, or ``""``.
    :param form: The form body.
    """
    if authorization[:6].lower() == "basic ":
        return "client_secret_basic"
    if form.get("client_assertion_type") == JWT_BEARER_ASSERTION:
        try:
            alg = jwt.get_unverified_header(form.get("client_assertion", "")).get("alg")
        except jwt.InvalidTokenError:
            alg = None
        if isinstance(alg, str) and alg.startswith("HS"):
            return "client_secret_jwt"
        return "private_key_jwt"
    if "client_secret" in form:
        return "client_secret_post"
    return "none"


def _basic_credentials(header: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before joining.
    return unquote_plus(client_id), unquote_plus(secret)


class OAuth2Validator(RequestValidator):
    """oauthlib's validator over the provider's users, clients and store."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.store = provider._oauth2_store

    # -- clients -----------------------------------------------------------

    def _client(self, client_id: str | None) -> Client | None:
        if client_id is None:
            return None
        return self.provider.clients.get(client_id)

    @staticmethod
    def _body(request: Request) -> dict[str, str]:
        return dict(request.decoded_body or [])

    def _claimed_client_id(self, request: Request) -> tuple[str | None, str]:
        body = self._body(request)
        method = classify_client_auth(request.headers.get("Authorization", ""), body)
        if method == "client_secret_basic":
            creds = _basic_credentials(request.headers.get("Authorization", ""))
            return (creds[0] if creds else None), method
        if method in ("private_key_jwt", "client_secret_jwt"):
            try:
                claims = jwt.decode(
                    body.get("client_assertion", ""),
                    options={"verify_signature": False},
                )
            except jwt.InvalidTokenError:
                return body.get("client_id"), method
            return str(claims.get("iss") or body.get("client_id") or ""), method
        return body.get("client_id") or request.client_id, method

    def client_authentication_required(
        self, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> bool:
        client_id, method = self._claimed_client_id(request)
        if method != "none":
            return True
        client = self._client(client_id)
        return client is None or not client.is_public

    def authenticate_client(
        self, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> bool:
        client_id, method = self._claimed_client_id(request)
        client = self._client(client_id)
        if client is None or method not in client.auth_methods:
            return False
        body = self._body(request)
        if "client_id" in body and body["client_id"] != client.client_id:
            return False
        if method == "client_secret_basic":
            creds = _basic_credentials(request.headers.get("Authorization", ""))
            secret = creds[1] if creds else ""
            if client.client_secret is None or not hmac.compare_digest(
                secret.encode(), client.client_secret.encode()
            ):
                return False
        elif method == "client_secret_post":
            secret = body.get("client_secret", "")
            if client.client_secret is None or not hmac.compare_digest(
                secret.encode(), client.client_secret.encode()
            ):
                return False
        elif method == "private_key_jwt":
            if not self._check_assertion(client, body.get("client_assertion", "")):
                return False
        elif method == "client_secret_jwt":
            if not self._check_secret_assertion(
                client, body.get("client_assertion", "")
            ):
                return False
        else:
            return False
        request.client = client
        request.client_id = client.client_id
        return True

    def _audiences(self) -> list[str]:
        """What a client assertion's ``aud`` may name: the issuer or the
        endpoint it authenticates to."""
        issuer = self.provider.issuer
        return [issuer] + [issuer + path for path in _ASSERTION_ENDPOINTS]

    def _check_secret_assertion(self, client: Client, assertion: str) -> bool:
        if client.client_secret is None:
            return False
        try:
            claims: dict[str, t.Any] = jwt.decode(
                assertion,
                key=client.client_secret.encode("utf-8"),
                algorithms=["HS256", "HS384", "HS512"],
                audience=self._audiences(),
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.InvalidTokenError:
            return False
        return self._assertion_claims_ok(client, claims)

    def _check_assertion(self, client: Client, assertion: str) -> bool:
        if not client.jwks:
            return False
        try:
            claims = decode_jwt(
                assertion,
                client.jwks.get("keys", []),
                audience=self._audiences(),
                required=("iss", "sub", "aud", "exp", "jti"),
            )
        except jwt.InvalidTokenError:
            return False
        return self._assertion_claims_ok(client, claims)

    def _assertion_claims_ok(self, client: Client, claims: dict[str, t.Any]) -> bool:
        if claims["iss"] != client.client_id or claims["sub"] != client.client_id:
            return False
        with self.store.lock:
            jti = f"{client.client_id}:{claims['jti']}"
            if jti in self.store.used_jtis:
                return False
            self.store.used_jtis.add(jti)
        return True

    def authenticate_client_id(
        self, client_id: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> bool:
        client = self._client(client_id)
        if client is None or not client.is_public:
            return False
        request.client = client
        request.client_id = client.client_id
        return True

    def validate_client_id(
        self, client_id: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> bool:
        client = self._client(client_id)
        if client is None:
            return False
        request.client = client
        return True

    def validate_redirect_uri(
        self,
        client_id: str,
        redirect_uri: str,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        client = self._client(client_id)
        return client is not None and redirect_uri_allowed(
            client.redirect_uris, redirect_uri
        )

    def get_default_redirect_uri(  # type: ignore[override]
        self, client_id: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> str | None:
        client = self._client(client_id)
        if client is None:
            return None
        for uri in client.redirect_uris:
            if "*" not in uri:
                return uri
        return None

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        return response_type == "code"

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        registered = self._client(client_id)
        if registered is None:
            return False
        if registered.scopes is None:
            return True
        return all(s in registered.scopes for s in scopes)

    def get_default_scopes(
        self, client_id: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> list[str]:
        client = self._client(client_id)
        return list(client.default_scopes) if client else []

    def validate_user(
        self,
        username: str,
        password: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        return False  # no password grant

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        client = self._client(client_id)
        return self.provider.require_pkce or bool(client and client.require_pkce)

    # -- authorization codes -----------------------------------------------

    def save_authorization_code(
        self,
        client_id: str,
        code: _AuthorizationCode,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        grant = Grant(
            grant_id=secrets.token_hex(8),
            client_id=client_id,
            user=str(request.user),
            scopes=list(request.scopes or []),
            auth_time=int(time.time()),
            nonce=request.nonce,
        )
        using_default = bool(getattr(request, "using_default_redirect_uri", False))
        record = _Code(
            grant=grant,
            redirect_uri=None if using_default else request.redirect_uri,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            expires_at=time.time() + self.provider.code_lifetime,
        )
        with self.store.lock:
            self.store.codes[code["code"]] = record

    def _code(self, code: str) -> _Code | None:
        with self.store.lock:
            return self.store.codes.get(code)

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: t.Any
    ) -> list[str]:
        record = self._code(code)
        return list(record.grant.scopes) if record else []

    def get_authorization_code_nonce(  # type: ignore[override]
        self, client_id: str, code: str, redirect_uri: str, request: t.Any
    ) -> str | None:
        record = self._code(code)
        return record.grant.nonce if record else None

    def validate_code(
        self,
        client_id: str,
        code: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        with self.store.lock:
            record = self.store.codes.get(code)
            if record is None or record.grant.client_id != client_id:
                return False
            if record.used:
                # RFC 6749 section 4.1.2: revoke what the code gave out.
                self.store.revoke_grant(record.grant.grant_id)
                return False
            record.used = True
        if time.time() >= record.expires_at:
            return False
        request.user = record.grant.user
        request.scopes = list(record.grant.scopes)
        request.validator_log[_GRANT_KEY] = record.grant
        return True

    def get_code_challenge(  # type: ignore[override]
        self, code: str, request: Request
    ) -> str | None:
        record = self._code(code)
        return record.code_challenge if record else None

    def get_code_challenge_method(  # type: ignore[override]
        self, code: str, request: Request
    ) -> str | None:
        record = self._code(code)
        return record.code_challenge_method if record else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        record = self._code(code)
        if record is None:
            return False
        if record.redirect_uri is None:
            return redirect_uri == self.get_default_redirect_uri(client_id, request)
        if getattr(request, "using_default_redirect_uri", False):
            return False
        return redirect_uri == record.redirect_uri

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> None:
        # Codes stay in the store marked used, so a replay can be detected.
        pass

    # -- tokens --------------------------------------------------------------

    def save_bearer_token(
        self, token: _BearerToken, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> object:
        grant: Grant = request.validator_log[_GRANT_KEY]
        now = time.time()
        scopes = list(request.scopes or grant.scopes)
        with self.store.lock:
            self.store.access_tokens[token["access_token"]] = Token(
                grant=grant, scopes=scopes, expires_at=now + token["expires_in"]
            )
            refresh = token.get("refresh_token")
            if refresh and refresh not in self.store.refresh_tokens:
                self.store.refresh_tokens[refresh] = Token(
                    grant=grant, scopes=list(grant.scopes), expires_at=None
                )
        return None

    def validate_refresh_token(
        self,
        refresh_token: str,
        client: t.Any,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> bool:
        with self.store.lock:
            record = self.store.refresh_tokens.get(refresh_token)
            if record is None or record.grant.client_id != client.client_id:
                return False
            if self.provider.rotate_refresh_tokens:
                # Consumed now, so a concurrent second use fails too.
                del self.store.refresh_tokens[refresh_token]
        request.user = record.grant.user
        request.validator_log[_GRANT_KEY] = record.grant
        request.validator_log[_REFRESH_KEY] = record
        return True

    def get_original_scopes(
        self, refresh_token: str, request: Request, *args: t.Any, **kwargs: t.Any
    ) -> list[str]:
        record: Token | None = request.validator_log.get(_REFRESH_KEY)
        return list(record.scopes) if record else []

    def rotate_refresh_token(self, request: Request) -> bool:
        return self.provider.rotate_refresh_tokens

    def validate_bearer_token(
        self, token: str, scopes: list[str], request: Request
    ) -> bool:
        if not token:
            request.validator_log[REASON_KEY] = "invalid_request"
            return False
        with self.store.lock:
            record = self.store.access_tokens.get(token)
        if record is None or (
            record.expires_at is not None and time.time() >= record.expires_at
        ):
            request.validator_log[REASON_KEY] = "invalid_token"
            return False
        if not all(s in record.scopes for s in scopes or []):
            request.validator_log[REASON_KEY] = "insufficient_scope"
            return False
        request.user = record.grant.user
        request.client_id = record.grant.client_id
        request.scopes = list(record.scopes)
        request.validator_log[_GRANT_KEY] = record.grant
        return True

    def validate_jwt_bearer_token(
        self, token: str, scopes: t.Any, request: Request
    ) -> bool:
        request.validator_log[REASON_KEY] = "invalid_token"
        return False

    def revoke_token(
        self,
        token: str,
        token_type_hint: str,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        client_id = request.client_id
        with self.store.lock:
            access = self.store.access_tokens.get(token)
            if access is not None and access.grant.client_id == client_id:
                del self.store.access_tokens[token]
                return
            refresh = self.store.refresh_tokens.get(token)
            if refresh is not None and refresh.grant.client_id == client_id:
                # RFC 7009 section 2.1: access tokens of the grant go too.
                self.store.revoke_grant(refresh.grant.grant_id)

    def introspect_token(
        self,
        token: str,
        token_type_hint: str | None,
        request: Request,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> dict[str, t.Any] | None:
        with self.store.lock:
            record = self.store.access_tokens.get(token)
            if record is None:
                record = self.store.refresh_tokens.get(token)
        if record is None or record.grant.client_id != request.client_id:
            return None
        if record.expires_at is not None and time.time() >= record.expires_at:
            return None
        claims: dict[str, t.Any] = {
            "scope": " ".join(record.scopes),
            "client_id": record.grant.client_id,
            "sub": record.grant.user,
            "iss": self.provider.issuer,
        }
        if record.expires_at is not None:
            claims["exp"] = int(record.expires_at)
        return claims

    # -- OpenID Connect ----------------------------------------------------

    def finalize_id_token(
        self,
        id_token: dict[str, t.Any],
        token: dict[str, t.Any],
        token_handler: t.Callable[..., str],
        request: Request,
    ) -> str:
        grant: Grant = request.validator_log[_GRANT_KEY]
        refresh = request.grant_type == "refresh_token"
        return self.provider._mint_id_token(
            grant,
            access_token=token.get("access_token"),
            nonce=None if refresh else id_token.get("nonce"),
            refresh=refresh,
        )

    def refresh_id_token(self, request: Request) -> bool:
        return "openid" in (request.scopes or [])

    def validate_silent_authorization(self, request: Request) -> bool:
        return False

    def validate_silent_login(self, request: Request) -> bool:
        return False

    def validate_user_match(
        self,
        id_token_hint: str,
        scopes: t.Any,
        claims: dict[str, t.Any],
        request: Request,
    ) -> bool:
        return True


def build_id_token_claims(
    provider: Provider,
    grant: Grant,
    *,
    access_token: str | None,
    nonce: str | None,
    refresh: bool,
) -> dict[str, t.Any]:
    """The claims of an id_token for ``grant``, with the faults applied."""
    faults = provider.faults
    user = provider.users[grant.user]
    now = int(time.time())
    lifetime = provider.id_token_lifetime
    claims: dict[str, t.Any] = {
        "iss": provider.issuer,
        "sub": user.subject,
        "aud": grant.client_id,
        "azp": grant.client_id,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": grant.auth_time,
        "sid": grant.grant_id,
        "name": user.name,
        "preferred_username": user.login,
        "email": user.email,
        "email_verified": user.email_verified,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = token_hash(access_token)
    claims.update(user.claims)
    if faults.id_token_iss is not None:
        claims["iss"] = faults.id_token_iss
    if faults.id_token_aud is not None:
        claims["aud"] = faults.id_token_aud
    if faults.id_token_azp is not None:
        claims["azp"] = faults.id_token_azp
    if faults.id_token_nonce is not None:
        claims["nonce"] = faults.id_token_nonce
    if faults.id_token_sub is not None:
        claims["sub"] = faults.id_token_sub
    if faults.id_token_at_hash is not None:
        claims["at_hash"] = faults.id_token_at_hash
    if faults.id_token_expired:
        claims["exp"] = now - 60
        claims["iat"] = now - 60 - lifetime
    claims["iat"] += faults.id_token_iat_offset
    claims["auth_time"] += faults.id_token_auth_time_offset
    overrides = dict(faults.id_token_claims)
    if refresh:
        overrides.update(faults.refresh_id_token_claims)
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def sign_id_token(provider: Provider, claims: dict[str, t.Any]) -> str:
    """Sign id_token claims with the provider's key, honouring the faults."""
    faults = provider.faults
    return encode_jws(
        claims,
        provider.signing_key,
        alg=faults.id_token_alg,
        kid=faults.id_token_kid,
        bad_signature=faults.id_token_bad_signature,
    )


def build_server(provider: Provider, validator: OAuth2Validator) -> Server:
    """oauthlib's OpenID Connect server, with PKCE limited to ``S256``."""

    def expires_in(request: Request) -> int:
        return provider.access_token_lifetime

    server = Server(validator, token_expires_in=expires_in)
    # A refresh answers with a new id_token on every supported oauthlib: its
    # Server uses the OpenID Connect refresh grant only from 3.3 on.
    refresh_grant = OpenIDRefreshTokenGrant(validator)
    server.refresh_grant = refresh_grant  # type: ignore[assignment]
    server.grant_types["refresh_token"] = refresh_grant
    s256_only = {"S256": code_challenge_method_s256}
    for grant in (server.auth_grant, server.openid_connect_auth.proxy_target):
        # RFC 9700 section 2.1.1: "plain" is refused (also when it is implied).
        grant._code_challenge_methods = s256_only  # type: ignore[attr-defined]
    return server
