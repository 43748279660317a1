"""The OAuth 1.0a half of the local provider, on oauthlib's endpoints."""

from __future__ import annotations

import dataclasses
import hmac
import re
import threading
import time
import typing as t

from oauthlib.common import Request
from oauthlib.oauth1 import AccessTokenEndpoint
from oauthlib.oauth1 import AuthorizationEndpoint
from oauthlib.oauth1 import RequestTokenEndpoint
from oauthlib.oauth1 import RequestValidator
from oauthlib.oauth1 import ResourceEndpoint

from ._models import OAuth1Client
from ._oauth2 import redirect_uri_allowed

if t.TYPE_CHECKING:  # pragma: no cover
    from ._crypto import SigningKey

_TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_.~\-]{1,128}$")
#: Unknown consumers and tokens still get a full signature check (oauthlib
#: compares against these) so that timing tells nothing.
_DUMMY = "dummy"


@dataclasses.dataclass
class RequestToken:
    """Temporary credentials (RFC 5849 section 2.1)."""

    client_key: str
    secret: str
    callback: str
    realms: list[str]
    expires_at: float
    verifier: str | None = None
    user: str | None = None


@dataclasses.dataclass
class AccessToken:
    """Token credentials (RFC 5849 section 2.3)."""

    client_key: str
    secret: str
    user: str
    realms: list[str]


class OAuth1Store:
    """The in-memory request tokens, access tokens and nonces, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.nonces: set[tuple[str, str, str, str]] = set()
        self.pending: dict[str, tuple[str, float]] = {}

    def clear(self) -> None:
        with self.lock:
            self.request_tokens.clear()
            self.access_tokens.clear()
            self.nonces.clear()
            self.pending.clear()


class Provider(t.Protocol):
    """What the OAuth 1 half needs of the provider it serves.
    :class:`~.provider.LocalProvider` has all of it."""

    oauth1_clients: dict[str, OAuth1Client]
    code_lifetime: int
    _oauth1_store: OAuth1Store

    @property
    def url(self) -> str: ...

    @property
    def signing_key(self) -> SigningKey: ...


class OAuth1Validator(RequestValidator):
    """oauthlib's OAuth 1 validator over the provider's consumers and store."""

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider
        self.store = provider._oauth1_store

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return ("HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512", "RSA-SHA1", "RSA-SHA256")

    @property
    def enforce_ssl(self) -> bool:
        return self.provider.url.startswith("https://")

    @property
    def realms(self) -> list[str]:
        return []

    def check_client_key(self, client_key: str) -> bool:
        return bool(_TOKEN_FORMAT.match(client_key))

    def check_request_token(self, request_token: str) -> bool:
        return bool(_TOKEN_FORMAT.match(request_token))

    def check_access_token(self, request_token: str) -> bool:
        return bool(_TOKEN_FORMAT.match(request_token))

    def check_nonce(self, nonce: str) -> bool:
        return bool(_TOKEN_FORMAT.match(nonce))

    def check_verifier(self, verifier: str) -> bool:
        return bool(_TOKEN_FORMAT.match(verifier))

    def check_realms(self, realms: list[str]) -> bool:
        return True

    @property
    def dummy_client(self) -> str:
        return _DUMMY

    @property
    def dummy_request_token(self) -> str:
        return _DUMMY

    @property
    def dummy_access_token(self) -> str:
        return _DUMMY

    def _client(self, client_key: str) -> OAuth1Client | None:
        return self.provider.oauth1_clients.get(client_key)

    def get_client_secret(self, client_key: str, request: Request) -> str:
        client = self._client(client_key)
        return client.client_secret if client else _DUMMY

    def get_rsa_key(self, client_key: str, request: Request) -> str:
        client = self._client(client_key)
        if client is None or client.rsa_key is None:
            return self.provider.signing_key.public_pem.decode("ascii")
        return client.rsa_key

    def get_request_token_secret(
        self, client_key: str, token: str, request: Request
    ) -> str:
        with self.store.lock:
            record = self.store.request_tokens.get(token)
        if record is None or record.client_key != client_key:
            return _DUMMY
        return record.secret

    def get_access_token_secret(
        self, client_key: str, token: str, request: Request
    ) -> str:
        with self.store.lock:
            record = self.store.access_tokens.get(token)
        if record is None or record.client_key != client_key:
            return _DUMMY
        return record.secret

    def get_default_realms(self, client_key: str, request: Request) -> list[str]:
        return []

    def get_realms(self, token: str, request: Request) -> list[str]:
        with self.store.lock:
            record = self.store.request_tokens.get(token)
        return list(record.realms) if record else []

    def get_redirect_uri(self, token: str, request: Request) -> str:
        with self.store.lock:
            return self.store.request_tokens[token].callback

    def invalidate_request_token(
        self, client_key: str, request_token: str, request: Request
    ) -> None:
        with self.store.lock:
            self.store.request_tokens.pop(request_token, None)

    def validate_client_key(self, client_key: str, request: Request) -> bool:
        return self._client(client_key) is not None

    def validate_request_token(
        self, client_key: str, token: str, request: Request
    ) -> bool:
        with self.store.lock:
            record = self.store.request_tokens.get(token)
        return (
            record is not None
            and record.client_key == client_key
            and time.time() < record.expires_at
        )

    def validate_access_token(
        self, client_key: str, token: str, request: Request
    ) -> bool:
        with self.store.lock:
            record = self.store.access_tokens.get(token)
        return record is not None and record.client_key == client_key

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: t.Any,
        nonce: str,
        request: Request,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        key = (client_key, str(timestamp), nonce, request_token or access_token or "")
        with self.store.lock:
            if key in self.store.nonces:
                return False
            self.store.nonces.add(key)
        return True

    def validate_redirect_uri(
        self, client_key: str, redirect_uri: t.Any, request: Request
    ) -> bool:
        client = self._client(client_key)
        return client is not None and redirect_uri_allowed(
            client.callback_uris, str(redirect_uri)
        )

    def validate_requested_realms(
        self, client_key: str, realms: list[str], request: Request
    ) -> bool:
        return True

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: Request,
        uri: str | None = None,
        realms: list[str] | None = None,
    ) -> bool:
        return True

    def validate_verifier(
        self, client_key: str, token: str, verifier: str, request: Request
    ) -> bool:
        with self.store.lock:
            record = self.store.request_tokens.get(token)
        if record is None or record.verifier is None or record.user is None:
            return False
        if record.client_key != client_key:
            return False
        return hmac.compare_digest(record.verifier.encode(), verifier.encode())

    def verify_request_token(self, token: str, request: Request) -> bool:
        with self.store.lock:
            record = self.store.request_tokens.get(token)
        return (
            record is not None
            and record.verifier is None
            and time.time() < record.expires_at
        )

    def verify_realms(self, token: str, realms: list[str], request: Request) -> bool:
        return True

    def save_request_token(self, token: t.Any, request: Request) -> None:
        record = RequestToken(
            client_key=str(request.client_key),
            secret=token["oauth_token_secret"],
            callback=str(request.redirect_uri),
            realms=list(getattr(request, "realms", None) or []),
            expires_at=time.time() + self.provider.code_lifetime,
        )
        with self.store.lock:
            self.store.request_tokens[token["oauth_token"]] = record

    def save_verifier(self, token: str, verifier: t.Any, request: Request) -> None:
        with self.store.lock:
            self.store.request_tokens[token].verifier = verifier["oauth_verifier"]

    def save_access_token(self, token: t.Any, request: Request) -> None:
        with self.store.lock:
            temporary = self.store.request_tokens[str(request.resource_owner_key)]
            self.store.access_tokens[token["oauth_token"]] = AccessToken(
                client_key=str(request.client_key),
                secret=token["oauth_token_secret"],
                user=str(temporary.user),
                realms=list(temporary.realms),
            )


class OAuth1Endpoints:
    """The four oauthlib OAuth 1 endpoints sharing one validator."""

    def __init__(self, provider: Provider) -> None:
        self.validator = OAuth1Validator(provider)
        self.request_token = RequestTokenEndpoint(self.validator)
        self.authorization = AuthorizationEndpoint(self.validator)
        self.access_token = AccessTokenEndpoint(self.validator)
        self.resource = ResourceEndpoint(self.validator)
