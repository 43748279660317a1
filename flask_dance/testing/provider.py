"""A real OAuth 1 / OAuth 2 / OpenID Connect provider for tests and demos."""

from __future__ import annotations

import collections
import logging
import secrets
import ssl
import tempfile
import threading
import time
import typing as t
from html.parser import HTMLParser
from types import TracebackType
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from . import _backchannel
from ._app import create_app
from ._app import RESPONSE_PARAMS
from ._crypto import make_tls_files
from ._crypto import server_ssl_context
from ._crypto import SigningKey
from ._models import AuthorizationResult
from ._models import Client
from ._models import Faults
from ._models import OAuth1Client
from ._models import RecordedRequest
from ._models import User
from ._oauth1 import OAuth1Endpoints
from ._oauth1 import OAuth1Store
from ._oauth2 import build_id_token_claims
from ._oauth2 import build_server
from ._oauth2 import Grant
from ._oauth2 import OAuth2Store
from ._oauth2 import OAuth2Validator
from ._oauth2 import sign_id_token
from ._oauth2 import Token

if t.TYPE_CHECKING:  # pragma: no cover
    import flask

log: logging.Logger = logging.getLogger(__name__)

#: The client registered when ``clients`` is not given.
#: The client authentication methods the provider offers, in its order.
_AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)

DEFAULT_CLIENT_ID = "test-client"
#: Its secret.
DEFAULT_CLIENT_SECRET = "test-secret"
#: The OAuth 1 consumer registered when ``oauth1_clients`` is not given.
DEFAULT_OAUTH1_CLIENT_KEY = "test-consumer-key"
#: Its secret.
DEFAULT_OAUTH1_CLIENT_SECRET = "test-consumer-secret"

#: Redirect URI patterns of the default clients: any path on the loopback
#: hosts, any port. Register exact URIs for tests about redirect URI checks.
LOOPBACK_REDIRECT_PATTERNS = [
    "http://localhost/*",
    "http://localhost:*/*",
    "http://127.0.0.1/*",
    "http://127.0.0.1:*/*",
    "https://localhost/*",
    "https://localhost:*/*",
    "https://127.0.0.1/*",
    "https://127.0.0.1:*/*",
]


def default_users() -> list[User]:
    """The users of a provider made without ``users``: octocat and monalisa."""
    return [
        User(login="octocat", name="The Octocat", email="octocat@example.com", id=1),
        User(
            login="monalisa",
            name="Mona Lisa Octocat",
            email="monalisa@example.com",
            id=2,
            emails=[
                {"email": "monalisa@example.com", "primary": True, "verified": True},
                {"email": "mona@example.org", "primary": False, "verified": False},
            ],
        ),
    ]


class _QuietHandler(WSGIRequestHandler):
    """Logs request lines without their query strings (which hold secrets)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)


class LocalProvider:
    """An OAuth 2 / OpenID Connect and OAuth 1.0a provider on 127.0.0.1.

    It is built on oauthlib's server classes and keeps everything in memory.
    Start it with :meth:`start` (or a ``with`` block) to serve it on a real
    socket from a daemon thread, or use :attr:`wsgi_app` in-process.

    Endpoints, relative to :attr:`url` (which is also the issuer):

    ``/.well-known/openid-configuration`` and
    ``/.well-known/oauth-authorization-server`` (metadata), ``/jwks.json``,
    ``/authorize`` (consent page; ``response_mode`` ``query`` or
    ``form_post``), ``/token`` (``authorization_code`` with PKCE ``S256`` and
    ``refresh_token`` with rotation), ``/revoke`` (RFC 7009), ``/userinfo``,
    ``/logout`` (RP-initiated logout), the GitHub-like API ``/user`` and
    ``/user/emails``, and for OAuth 1 ``/oauth1/request_token``,
    ``/oauth1/authorize``, ``/oauth1/access_token``, ``/oauth1/user`` and
    ``/oauth1/user/emails``.

    :param users: The resource owners; defaults to :func:`default_users`.
    :param clients: The OAuth 2 clients; defaults to one client
        ``test-client`` / ``test-secret`` that accepts any loopback redirect URI.
    :param oauth1_clients: The OAuth 1 consumers; defaults to one consumer
        ``test-consumer-key`` / ``test-consumer-secret`` with the same callbacks.
    :param host: The address to listen on.
    :param port: The port; ``0`` picks a free one.
    :param ssl_context: Serve HTTPS with this server context.
    :param tls: Serve HTTPS with a throwaway CA made at start; its certificate
        is at :attr:`ca_file`.
    :param issuer: A fixed issuer URL, for in-process use through
        :attr:`wsgi_app` without :meth:`start`.
    :param access_token_lifetime: Seconds an access token lives.
    :param id_token_lifetime: Seconds an id_token lives.
    :param code_lifetime: Seconds an authorization code (and an OAuth 1
        request token) lives.
    :param rotate_refresh_tokens: Issue a new refresh token on each refresh and
        invalidate the old one.
    :param require_pkce: Refuse authorization requests without PKCE for every
        client (a client can also ask for it alone).
    :param auto_approve: Skip the consent page and approve as the default
        user (or the ``login_hint`` user).
    :param default_user: The login preselected on the consent page; defaults
        to the first user.
    :param signing_key: The id_token signing key; a new RSA key when omitted.
    """

    def __init__(
        self,
        users: t.Iterable[User] | None = None,
        clients: t.Iterable[Client] | None = None,
        oauth1_clients: t.Iterable[OAuth1Client] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        tls: bool = False,
        issuer: str | None = None,
        access_token_lifetime: int = 3600,
        id_token_lifetime: int = 3600,
        code_lifetime: int = 600,
        rotate_refresh_tokens: bool = True,
        require_pkce: bool = False,
        auto_approve: bool = False,
        default_user: str | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        self._users_lock = threading.Lock()
        #: Users by login.
        self.users: dict[str, User] = {}
        for user in default_users() if users is None else users:
            self.add_user(user)
        #: OAuth 2 clients by client_id.
        self.clients: dict[str, Client] = {}
        if clients is None:
            clients = [
                Client(
                    DEFAULT_CLIENT_ID,
                    DEFAULT_CLIENT_SECRET,
                    redirect_uris=list(LOOPBACK_REDIRECT_PATTERNS),
                    name="Test Client",
                    post_logout_redirect_uris=[
                        "http://localhost/",
                        "http://127.0.0.1/",
                    ],
                )
            ]
        for client in clients:
            self.clients[client.client_id] = client
        #: OAuth 1 consumers by client key.
        self.oauth1_clients: dict[str, OAuth1Client] = {}
        if oauth1_clients is None:
            oauth1_clients = [
                OAuth1Client(
                    DEFAULT_OAUTH1_CLIENT_KEY,
                    DEFAULT_OAUTH1_CLIENT_SECRET,
                    callback_uris=list(LOOPBACK_REDIRECT_PATTERNS),
                    name="Test Consumer",
                )
            ]
        for oauth1_client in oauth1_clients:
            self.oauth1_clients[oauth1_client.client_key] = oauth1_client

        self.host = host
        self.port: int = port
        self.access_token_lifetime = access_token_lifetime
        self.id_token_lifetime = id_token_lifetime
        self.code_lifetime = code_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.require_pkce = require_pkce
        self.auto_approve = auto_approve
        #: Refuse authorization requests that were not pushed (RFC 9126).
        self.require_pushed_authorization_requests = False
        #: Demand the current :attr:`dpop_nonce` in DPoP proofs (RFC 9449 8, 9).
        self.dpop_nonces = False
        #: The DPoP nonce the provider hands out; new after :meth:`reset`.
        self.dpop_nonce: str = secrets.token_urlsafe(16)
        self._default_user = default_user
        #: The hostile behaviour knobs; see :class:`Faults`.
        self.faults: Faults = Faults()
        #: Requests received, by endpoint name (see :class:`Faults`).
        self.calls: collections.Counter[str] = collections.Counter()
        #: Every request received, oldest first.
        self.requests: list[RecordedRequest] = []
        #: The path of the CA certificate when started with ``tls=True``.
        self.ca_file: str | None = None

        self._signing_keys = [signing_key or SigningKey()]
        self._fixed_issuer = issuer.rstrip("/") if issuer else None
        self._ssl_context = ssl_context
        self._tls = tls
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

        self._oauth2_store = OAuth2Store()
        self._oauth1_store = OAuth1Store()
        self._oauth2_validator = OAuth2Validator(self)
        self._oauth2_server = build_server(self, self._oauth2_validator)
        self._oauth1 = OAuth1Endpoints(self)
        #: The Flask application serving the endpoints.
        self.app: flask.Flask = create_app(self)

    # -- configuration -------------------------------------------------------

    def add_user(self, user: User | str, /, **kwargs: t.Any) -> User:
        """Register a user, given as a :class:`User` or a login plus fields.

        ``provider.add_user("alice", name="Alice", email="alice@example.com")``.
        A user with the same login is replaced.
        """
        if isinstance(user, str):
            user = User(user, **kwargs)
        with self._users_lock:
            if user.id == 0:
                user.id = max((u.id for u in list(self.users.values())), default=0) + 1
            self.users[user.login] = user
        return user

    def add_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        redirect_uris: t.Iterable[str] = (),
        **kwargs: t.Any,
    ) -> Client:
        """Register an OAuth 2 client; ``kwargs`` are :class:`Client` fields."""
        client = Client(client_id, client_secret, list(redirect_uris), **kwargs)
        self.clients[client_id] = client
        return client

    def add_oauth1_client(
        self,
        client_key: str,
        client_secret: str = "",
        callback_uris: t.Iterable[str] = (),
        **kwargs: t.Any,
    ) -> OAuth1Client:
        """Register an OAuth 1 consumer; ``kwargs`` are :class:`OAuth1Client` fields."""
        client = OAuth1Client(client_key, client_secret, list(callback_uris), **kwargs)
        self.oauth1_clients[client_key] = client
        return client

    @property
    def default_user(self) -> str | None:
        """The login preselected on the consent page."""
        if self._default_user is not None:
            return self._default_user
        return next(iter(self.users), None)

    @default_user.setter
    def default_user(self, login: str | None) -> None:
        self._default_user = login

    @property
    def default_client_id(self) -> str:
        """The first registered OAuth 2 client's id."""
        return next(iter(self.clients))

    # -- running -------------------------------------------------------------

    @property
    def wsgi_app(self) -> flask.Flask:
        """The WSGI application, for in-process use."""
        return self.app

    @property
    def running(self) -> bool:
        """Whether :meth:`start` has been called and :meth:`stop` has not."""
        return self._server is not None

    def start(self) -> LocalProvider:
        """Serve on :attr:`host` from a daemon thread; return ``self``."""
        if self._server is not None:
            return self
        context = self._ssl_context
        if context is None and self._tls:
            self._tempdir = tempfile.TemporaryDirectory(prefix="flask-dance-provider-")
            files = make_tls_files(self._tempdir.name, (self.host, "localhost"))
            self.ca_file = files.ca_file
            context = server_ssl_context(files)
        self._stopping.clear()
        server = make_server(
            self.host,
            self.port,
            self.app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=context,
        )
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"flask-dance-local-provider-{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.debug("Local provider listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; pending delays end at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None
            self.ca_file = None

    def __enter__(self) -> LocalProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        if self._fixed_issuer is not None:
            return self._fixed_issuer
        if self._server is None:
            raise RuntimeError(
                "The local provider has no URL yet: call 'start()' first, or pass"
                " 'issuer=...' to use 'wsgi_app' in-process."
            )
        scheme = "https" if (self._ssl_context or self._tls) else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def issuer(self) -> str:
        """The issuer identifier: the same as :attr:`url`."""
        return self.url

    @property
    def authorization_url(self) -> str:
        """The authorization endpoint."""
        return self.url + "/authorize"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.url + "/token"

    @property
    def revocation_url(self) -> str:
        """The revocation endpoint (RFC 7009)."""
        return self.url + "/revoke"

    @property
    def userinfo_url(self) -> str:
        """The OpenID Connect userinfo endpoint."""
        return self.url + "/userinfo"

    @property
    def jwks_url(self) -> str:
        """The JWKS document."""
        return self.url + "/jwks.json"

    @property
    def end_session_url(self) -> str:
        """The RP-initiated logout endpoint."""
        return self.url + "/logout"

    @property
    def discovery_url(self) -> str:
        """The OpenID Connect discovery document."""
        return self.url + "/.well-known/openid-configuration"

    # -- metadata and keys ---------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        """The key that signs new id_tokens."""
        return self._signing_keys[-1]

    def rotate_signing_key(
        self, key: SigningKey | None = None, *, keep_old: bool = True
    ) -> SigningKey:
        """Sign with a new key from now on and return it.

        :param key: The new key; a fresh one when omitted.
        :param keep_old: Keep publishing the previous keys in the JWKS.
        """
        key = key or SigningKey()
        with self._lock:
            if keep_old:
                self._signing_keys.append(key)
            else:
                self._signing_keys = [key]
        return key

    def jwks(self) -> dict[str, t.Any]:
        """The JWK set served at ``/jwks.json`` (newest key first)."""
        return {"keys": [k.public_jwk() for k in reversed(self._signing_keys)]}

    def metadata(self) -> dict[str, t.Any]:
        """The discovery document, with :attr:`Faults.metadata_overrides` applied."""
        url = self.url
        data: dict[str, t.Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": url + "/authorize",
            "token_endpoint": url + "/token",
            "userinfo_endpoint": url + "/userinfo",
            "jwks_uri": url + "/jwks.json",
            "revocation_endpoint": url + "/revoke",
            "end_session_endpoint": url + "/logout",
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": list(_AUTH_METHODS),
            "token_endpoint_auth_signing_alg_values_supported": [
                "RS256",
                "ES256",
                "HS256",
            ],
            "revocation_endpoint_auth_methods_supported": list(_AUTH_METHODS),
            "introspection_endpoint": url + "/introspect",
            "pushed_authorization_request_endpoint": url + "/par",
            "require_pushed_authorization_requests": (
                self.require_pushed_authorization_requests
            ),
            "introspection_endpoint_auth_methods_supported": list(_AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "azp",
                "name",
                "preferred_username",
                "email",
                "email_verified",
            ],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            "dpop_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
            "backchannel_logout_session_supported": True,
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
        }
        for name, value in self.faults.metadata_overrides.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return data

    # -- helpers for consumers ---------------------------------------------

    def blueprint_kwargs(
        self,
        client_id: str | None = None,
        *,
        scope: str | t.Sequence[str] | None = None,
        auto_refresh: bool = False,
        **extra: t.Any,
    ) -> dict[str, t.Any]:
        """Keyword arguments for an ``OAuth2ConsumerBlueprint`` pointed here.

        :param client_id: Which client; defaults to :attr:`default_client_id`.
        :param scope: Added as ``scope`` when given.
        :param auto_refresh: Add ``auto_refresh_url`` (the token endpoint).
        :param extra: Added (or overriding) as they are.
        """
        client = self.clients[client_id or self.default_client_id]
        kwargs: dict[str, t.Any] = {
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "base_url": self.url + "/",
            "authorization_url": self.authorization_url,
            "token_url": self.token_url,
        }
        if scope is not None:
            kwargs["scope"] = scope
        if auto_refresh:
            kwargs["auto_refresh_url"] = self.token_url
        kwargs.update(extra)
        return kwargs

    def oauth1_blueprint_kwargs(
        self, client_key: str | None = None, **extra: t.Any
    ) -> dict[str, t.Any]:
        """Keyword arguments for an ``OAuth1ConsumerBlueprint`` pointed here."""
        client = self.oauth1_clients[client_key or next(iter(self.oauth1_clients))]
        kwargs: dict[str, t.Any] = {
            "client_key": client.client_key,
            "client_secret": client.client_secret,
            "base_url": self.url + "/oauth1/",
            "request_token_url": self.url + "/oauth1/request_token",
            "authorization_url": self.url + "/oauth1/authorize",
            "access_token_url": self.url + "/oauth1/access_token",
        }
        kwargs.update(extra)
        return kwargs

    def authorize(
        self,
        url: str,
        *,
        user: str | None = None,
        approve: bool = True,
        timeout: float = 10.0,
    ) -> AuthorizationResult:
        """Play the user agent on an authorization URL, as a browser would.

        Loads ``url`` (OAuth 2 or OAuth 1), submits the consent form with
        ``user`` and Approve (or Deny), and returns where the provider sends
        the user agent next, without following it. Requires :meth:`start`.

        :param url: The authorization URL the consumer redirected to.
        :param user: The login to approve as; defaults to the preselected one.
        :param approve: Press Approve (``True``) or Deny.
        :param timeout: Per-request timeout in seconds.
        :raises RuntimeError: When the provider answers with an error page.
        """
        # Per request: a session's verify loses to REQUESTS_CA_BUNDLE.
        verify: str | bool = self.ca_file or True
        with requests.Session() as http:
            response = http.get(
                url, allow_redirects=False, timeout=timeout, verify=verify
            )
            result = _result_from_response(response)
            if result is not None:
                return result
            forms = _parse_forms(response.text)
            consent = next((f for f in forms if "txn" in f.fields), None)
            if consent is None:
                raise RuntimeError(
                    f"The provider answered {response.status_code} without a consent"
                    f" form: {response.text[:300]!r}"
                )
            data = {
                "txn": consent.fields["txn"],
                "user": user or consent.fields["user"],
            }
            data["approve" if approve else "deny"] = "1"
            response = http.post(
                urljoin(url, consent.action),
                data=data,
                allow_redirects=False,
                timeout=timeout,
                verify=verify,
            )
            result = _result_from_response(response)
            if result is None:
                raise RuntimeError(
                    f"The provider answered {response.status_code}:"
                    f" {response.text[:300]!r}"
                )
            return result

    def issue_token(
        self,
        user: str | None = None,
        client_id: str | None = None,
        *,
        scope: t.Sequence[str] = ("openid", "profile", "email"),
        expires_in: int | None = None,
        refresh_token: bool = True,
        nonce: str | None = None,
    ) -> dict[str, t.Any]:
        """Mint a token as if a dance had just finished, without one.

        Handy to seed a consumer's storage. The result is shaped like a token
        response, plus ``expires_at``; it has an ``id_token`` when ``openid``
        is in ``scope``.
        """
        login = user or self.default_user
        if login is None or login not in self.users:
            raise ValueError(f"Unknown user {login!r}; add it with 'add_user()'.")
        client = self.clients[client_id or self.default_client_id]
        now = time.time()
        lifetime = self.access_token_lifetime if expires_in is None else expires_in
        grant = Grant(
            grant_id=secrets.token_hex(8),
            client_id=client.client_id,
            user=login,
            scopes=list(scope),
            auth_time=int(now),
            nonce=nonce,
        )
        access = secrets.token_urlsafe(24)
        token: dict[str, t.Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "expires_at": now + lifetime,
            "scope": " ".join(scope),
        }
        store = self._oauth2_store
        with store.lock:
            store.access_tokens[access] = Token(grant, list(scope), now + lifetime)
            if refresh_token:
                refresh = secrets.token_urlsafe(24)
                store.refresh_tokens[refresh] = Token(grant, list(scope), None)
                token["refresh_token"] = refresh
        if "openid" in scope:
            token["id_token"] = self._mint_id_token(
                grant, access_token=access, nonce=nonce, refresh=False
            )
        return token

    def is_active(self, token: str) -> bool:
        """Whether an access or refresh token is currently valid."""
        store = self._oauth2_store
        with store.lock:
            access = store.access_tokens.get(token)
            if access is not None:
                return access.expires_at is None or time.time() < access.expires_at
            return token in store.refresh_tokens

    def logout_token(
        self,
        client_id: str | None = None,
        *,
        sub: str | None = None,
        sid: str | None = None,
        **overrides: t.Any,
    ) -> str:
        """A back-channel logout token for a client (OpenID Connect
        Back-Channel Logout 1.0), signed with the provider's key.

        :param client_id: The audience; defaults to :attr:`default_client_id`.
        :param sub: The user's subject (:attr:`User.subject`).
        :param sid: The session: the ``sid`` of the id_tokens of one login.
        :param overrides: Claims to set, or remove with ``None``.
        """
        return _backchannel.logout_token(
            self, client_id or self.default_client_id, sub=sub, sid=sid, **overrides
        )

    def send_backchannel_logout(
        self,
        client_id: str | None = None,
        *,
        sub: str | None = None,
        sid: str | None = None,
    ) -> requests.Response:
        """POST a logout token to the client's ``backchannel_logout_uri``.

        :param client_id: The client; defaults to :attr:`default_client_id`.
        :param sub: The user's subject.
        :param sid: The session id.
        :raises ValueError: when the client registered no URI.
        """
        client_id = client_id or self.default_client_id
        token = self.logout_token(client_id, sub=sub, sid=sid)
        return _backchannel.send(self, client_id, token)

    def requests_for(self, name: str) -> list[RecordedRequest]:
        """The recorded requests that carry the endpoint name ``name``."""
        with self._lock:
            return [r for r in self.requests if name in r.names]

    def reset(self) -> None:
        """Forget faults, counters, recorded requests, codes and tokens.

        Users, clients and keys stay.
        """
        self.faults.reset()
        self.dpop_nonce = secrets.token_urlsafe(16)
        with self._lock:
            self.calls.clear()
            self.requests.clear()
        self._oauth2_store.clear()
        self._oauth1_store.clear()

    # -- internals used by the views ---------------------------------------

    def _record(
        self,
        names: tuple[str, ...],
        req: flask.Request,
        form: dict[str, str],
        client_auth: str | None,
    ) -> None:
        record = RecordedRequest(
            names=names,
            method=req.method,
            url=req.url,
            args=req.args.to_dict(),
            form=form,
            headers=dict(req.headers.items()),
            client_auth=client_auth,
        )
        with self._lock:
            self.calls.update(names)
            self.requests.append(record)

    def _mint_id_token(
        self,
        grant: Grant,
        *,
        access_token: str | None,
        nonce: str | None,
        refresh: bool,
    ) -> str:
        claims = build_id_token_claims(
            self, grant, access_token=access_token, nonce=nonce, refresh=refresh
        )
        return sign_id_token(self, claims)

    def _userinfo(self, login: str) -> dict[str, t.Any]:
        user = self.users[login]
        claims: dict[str, t.Any] = {
            "sub": user.subject,
            "name": user.name,
            "preferred_username": user.login,
            "email": user.email,
            "email_verified": user.email_verified,
        }
        claims.update(user.claims)
        if self.faults.userinfo_sub is not None:
            claims["sub"] = self.faults.userinfo_sub
        for name, value in self.faults.userinfo_claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims


class _Form(t.NamedTuple):
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                _Form(attr.get("action", ""), attr.get("method", "get").upper(), {})
            )
        elif not self.forms:
            return
        elif tag == "input" and "name" in attr:
            self.forms[-1].fields[attr["name"]] = attr.get("value", "")
        elif tag == "select":
            self._select = attr.get("name")
            self._first_option = None
        elif tag == "option" and self._select is not None:
            value = attr.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.forms[-1].fields.setdefault(self._select, value)
            if "selected" in attr:
                self.forms[-1].fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _parse_forms(html: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def _result_from_response(response: requests.Response) -> AuthorizationResult | None:
    if response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        params = {
            k: v
            for k, v in parse_qsl(urlsplit(location).query, keep_blank_values=True)
            if k in RESPONSE_PARAMS
        }
        return AuthorizationResult("GET", location, params)
    if response.status_code == 200:
        forms = _parse_forms(response.text)
        if forms and forms[0].method == "POST" and "txn" not in forms[0].fields:
            return AuthorizationResult("POST", forms[0].action, forms[0].fields)
    return None
