"""A configuration audit of an app's Flask-Dance setup.

:func:`audit` inspects an app and returns what looks wrong or risky, as
:class:`Finding` objects; ``flask dance check`` prints them. The checks read
the app's config, its registered blueprints and, for OpenID Connect
blueprints, the provider's metadata. They change nothing.

.. code-block:: python

    from flask_dance.audit import audit

    for finding in audit(app):
        print(finding)
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from .consumer._setup import config_key
from .consumer.storage import _crypto
from .consumer.storage.session import SessionStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from flask import Flask

    from .consumer.base import BaseOAuthConsumerBlueprint

log: logging.Logger = logging.getLogger(__name__)

#: The level of a finding that makes ``flask dance check`` fail.
ERROR = "ERROR"
#: The level of a finding worth a look that does not fail the check.
WARNING = "WARNING"

#: The shortest secret key accepted, in bytes.
MIN_SECRET_KEY_BYTES = 24

#: Secret keys copied from tutorials and templates, compared lowercased.
_PLACEHOLDER_KEYS = frozenset(
    {
        "change-me",
        "change_me",
        "changeit",
        "changeme",
        "default",
        "dev",
        "development",
        "development key",
        "dev-key",
        "devkey",
        "insecure",
        "key",
        "mysecret",
        "mysecretkey",
        "not-a-secret",
        "notsecret",
        "password",
        "please-change-me",
        "replace-me",
        "secret",
        "secret key",
        "secret-key",
        "secret_key",
        "secretkey",
        "super secret key",
        "super-secret",
        "super-secret-key",
        "supersecret",
        "supersecretkey",
        "test",
        "your-secret-key",
        "your_secret_key",
        "your-secret-key-here",
        "yoursecretkey",
    }
)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class Finding:
    """One problem found by :func:`audit`."""

    #: :data:`ERROR` or :data:`WARNING`.
    level: str
    #: A short, stable identifier, such as ``"secret-key-weak"``.
    code: str
    #: What is wrong.
    message: str
    #: How to fix it.
    fix: str
    #: The name of the blueprint concerned, or ``None`` for the whole app.
    blueprint: str | None = None

    def __str__(self) -> str:
        return f"{self.level} [{self.code}] {self.message} Fix: {self.fix}"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_host(server_name: str | None) -> str | None:
    if not server_name:
        return None
    return urlsplit(f"//{server_name}").hostname


def _blueprints(app: Flask) -> list[tuple[str, BaseOAuthConsumerBlueprint]]:
    found: dict[str, BaseOAuthConsumerBlueprint] = app.extensions.get("flask_dance", {})
    return sorted(found.items())


class _Audit:
    def __init__(self, app: Flask, *, discover: bool) -> None:
        self.app = app
        self.config = app.config
        self.discover = discover
        self.findings: list[Finding] = []
        self.blueprints = _blueprints(app)

    def add(
        self, level: str, code: str, message: str, fix: str, bp: str | None = None
    ) -> None:
        self.findings.append(Finding(level, code, message, fix, bp))

    def run(self) -> list[Finding]:
        for _, bp in self.blueprints:
            bp.load_config()
        self.secret_key()
        self.insecure_transport()
        self.cookies()
        self.redirect_uris()
        self.host_derived_redirect_uris()
        self.proxy()
        self.credentials()
        self.token_encryption()
        if self.discover:
            self.provider_metadata()
        return self.findings

    # -- the checks -------------------------------------------------------------

    def secret_key(self) -> None:
        key = self.app.secret_key
        if not key:
            self.add(
                ERROR,
                "secret-key-missing",
                "SECRET_KEY is not set: sessions, and with them every login,"
                " cannot work.",
                "Set SECRET_KEY to a random value, such as the output of"
                " python -c 'import secrets; print(secrets.token_hex(32))',"
                " read from the environment.",
            )
            return
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if raw.strip().lower().decode("utf-8", "replace") in _PLACEHOLDER_KEYS:
            self.add(
                ERROR,
                "secret-key-placeholder",
                "SECRET_KEY is a well-known placeholder: anyone can forge the"
                " session cookie, its login state and stored tokens.",
                "Replace it with a random value of at least 32 bytes, such as"
                " secrets.token_hex(32), kept out of the source code.",
            )
        elif len(raw) < MIN_SECRET_KEY_BYTES:
            self.add(
                ERROR,
                "secret-key-weak",
                f"SECRET_KEY is only {len(raw)} bytes long (fewer than"
                f" {MIN_SECRET_KEY_BYTES}): it can be guessed, and the session"
                " cookie forged.",
                "Use a random value of at least 32 bytes, such as"
                " secrets.token_hex(32).",
            )

    def _looks_deployed(self) -> bool:
        """Whether the config names a public host or https: not a setup on
        the developer's own machine."""
        host = _server_host(self.config.get("SERVER_NAME"))
        if host and not _is_loopback(host):
            return True
        if self.config.get("PREFERRED_URL_SCHEME") == "https":
            return True
        return any(
            not _is_loopback(urlsplit(str(uri)).hostname)
            for uri in (getattr(bp, "redirect_uri", None) for _, bp in self.blueprints)
            if uri
        )

    def insecure_transport(self) -> None:
        if not os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
            return
        deployed = self._looks_deployed()
        self.add(
            ERROR if deployed else WARNING,
            "insecure-transport",
            "OAUTHLIB_INSECURE_TRANSPORT is set in the environment: codes and"
            " tokens may travel over plain HTTP"
            + (
                ", and the config names a public host or https."
                if deployed
                else " (fine for local development only)."
            ),
            "Unset it wherever the app is deployed; use https URLs for the"
            " provider and the app.",
        )

    def _serves_https(self) -> bool:
        if self.config.get("PREFERRED_URL_SCHEME") == "https":
            return True
        return any(
            str(getattr(bp, "redirect_uri", None) or "").startswith("https://")
            for _, bp in self.blueprints
        )

    def cookies(self) -> None:
        secure = bool(self.config.get("SESSION_COOKIE_SECURE"))
        samesite = self.config.get("SESSION_COOKIE_SAMESITE")
        if not secure and self._serves_https():
            self.add(
                WARNING,
                "session-cookie-not-secure",
                "The app is served over https, but SESSION_COOKIE_SECURE is off:"
                " the session cookie, with the login state and tokens, is also"
                " sent over plain HTTP.",
                "Set SESSION_COOKIE_SECURE = True.",
            )
        if isinstance(samesite, str) and samesite.lower() == "strict":
            form_post = [
                name
                for name, bp in self.blueprints
                if getattr(bp, "response_mode", None) == "form_post"
            ]
            for name in form_post:
                self.add(
                    ERROR,
                    "samesite-strict-form-post",
                    f"SESSION_COOKIE_SAMESITE is 'Strict', and {name!r} uses"
                    " response_mode=form_post: the browser sends no session"
                    " cookie with the provider's cross-site callback, so every"
                    " login fails.",
                    "Set SESSION_COOKIE_SAMESITE = 'Lax' (the callback is"
                    " re-posted from the app's own page).",
                    name,
                )
            if self.blueprints and not form_post:
                self.add(
                    WARNING,
                    "samesite-strict",
                    "SESSION_COOKIE_SAMESITE is 'Strict': browsers do not send"
                    " the session cookie with the redirect back from the"
                    " provider, which breaks logins.",
                    "Set SESSION_COOKIE_SAMESITE = 'Lax'.",
                )
        if isinstance(samesite, str) and samesite.lower() == "none" and not secure:
            self.add(
                ERROR,
                "samesite-none-not-secure",
                "SESSION_COOKIE_SAMESITE is 'None' without SESSION_COOKIE_SECURE:"
                " browsers reject such a cookie, so there is no session and no"
                " login.",
                "Set SESSION_COOKIE_SECURE = True, or SESSION_COOKIE_SAMESITE = 'Lax'.",
            )

    def redirect_uris(self) -> None:
        for name, bp in self.blueprints:
            uri = getattr(bp, "redirect_uri", None)
            if not uri:
                continue
            parts = urlsplit(str(uri))
            if parts.scheme == "http" and not _is_loopback(parts.hostname):
                self.add(
                    ERROR,
                    "redirect-uri-http",
                    f"{name!r} has the plain-HTTP redirect URI {uri!r}: the"
                    " authorization code travels unencrypted.",
                    "Serve the app over https and register an https redirect URI.",
                    name,
                )
        host = _server_host(self.config.get("SERVER_NAME"))
        scheme = self.config.get("PREFERRED_URL_SCHEME") or "http"
        if (
            scheme == "http"
            and host
            and not _is_loopback(host)
            and any(not getattr(bp, "redirect_uri", None) for _, bp in self.blueprints)
        ):
            self.add(
                WARNING,
                "preferred-scheme-http",
                f"SERVER_NAME is {self.config['SERVER_NAME']!r} and"
                " PREFERRED_URL_SCHEME is 'http': redirect URIs built outside a"
                " request are plain HTTP.",
                "Set PREFERRED_URL_SCHEME = 'https', or pass a fixed https"
                " redirect_uri to the blueprints.",
            )

    def host_derived_redirect_uris(self) -> None:
        if self.config.get("SERVER_NAME") or self.config.get("TRUSTED_HOSTS"):
            return
        for name, bp in self.blueprints:
            if getattr(bp, "redirect_uri", None):
                continue
            path = _callback_path(self.app, name)
            self.add(
                WARNING,
                "redirect-uri-from-host",
                f"{name!r} builds its redirect URI from the Host header of each"
                " request (no fixed redirect_uri, no SERVER_NAME, no"
                " TRUSTED_HOSTS): a forged Host header changes where the"
                " provider is asked to send the code.",
                "Give it a fixed callback URL with your app's real host:"
                f' redirect_uri="https://app.example.com{path}" (an argument of'
                " the blueprint and of its make_*_blueprint factory, or set its"
                " redirect_uri attribute at set-up time); or set TRUSTED_HOSTS ="
                ' ["app.example.com"] (Flask 3.1 and later) or SERVER_NAME ='
                ' "app.example.com".',
                name,
            )

    def proxy(self) -> None:
        behind = bool(self.config.get("FLASK_DANCE_BEHIND_PROXY"))
        if not behind:
            behind = bool(self.config.get("SERVER_NAME")) and (
                self.config.get("PREFERRED_URL_SCHEME") == "https"
            )
        if not behind or _has_proxy_fix(self.app.wsgi_app):
            return
        self.add(
            WARNING,
            "proxy-fix-missing",
            "The app seems to run behind a proxy that terminates TLS, but"
            " app.wsgi_app is not wrapped in ProxyFix: requests look like plain"
            " HTTP, and callback URLs built from them are wrong.",
            "Wrap it: app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1,"
            " x_host=1), with the numbers of proxies you really have (or set"
            " FLASK_DANCE_BEHIND_PROXY = False if there is none).",
        )

    def credentials(self) -> None:
        from .consumer.oauth1 import OAuth1ConsumerBlueprint

        for name, bp in self.blueprints:
            if isinstance(bp, OAuth1ConsumerBlueprint):
                id_attr, client_id = "client_key", bp.client_key
                has_secret = bool(bp.client_secret or bp.rsa_key)
                secret_level = ERROR
            else:
                id_attr, client_id = "client_id", getattr(bp, "client_id", None)
                has_secret = bool(getattr(bp, "client_secret", None))
                # A public client with PKCE may have no secret.
                secret_level = WARNING
            if not client_id:
                key = config_key(bp, id_attr, "client_id")
                self.add(
                    ERROR,
                    "client-id-missing",
                    f"{name!r} has no client id.",
                    f"Set {key} in the app's config."
                    if key
                    else f"Pass {id_attr}= to the blueprint.",
                    name,
                )
            if not has_secret:
                key = config_key(bp, "client_secret")
                self.add(
                    secret_level,
                    "client-secret-missing",
                    f"{name!r} has no client secret.",
                    f"Set {key} in the app's config."
                    if key
                    else "Pass client_secret= to the blueprint (a public client"
                    " without one relies on PKCE alone).",
                    name,
                )

    def token_encryption(self) -> None:
        try:
            codec = _crypto.codec_from_config(self.config)
        except (ImportError, TypeError, ValueError) as exc:
            self.add(
                ERROR,
                "token-keys-invalid",
                f"{_crypto.CONFIG_KEY} cannot be used: {exc}",
                "Fix the keys (or install the 'crypto' extra).",
            )
            return
        if codec is not None:
            return
        for name, bp in self.blueprints:
            if isinstance(bp.storage, SessionStorage):
                self.add(
                    WARNING,
                    "session-tokens-unencrypted",
                    f"{name!r} keeps its tokens in the session, unencrypted: with"
                    " Flask's cookie session, anyone holding the cookie can read"
                    " them.",
                    f"Set {_crypto.CONFIG_KEY} to a Fernet key"
                    " (Fernet.generate_key()), or use SQLAlchemyStorage.",
                    name,
                )

    def provider_metadata(self) -> None:
        from .consumer import _openid

        for name, bp in self.blueprints:
            if not getattr(bp, "issuer", None):
                continue
            try:
                meta = _openid.metadata(t.cast(t.Any, bp))
            except Exception as exc:
                self.add(
                    ERROR,
                    "discovery-failed",
                    f"The metadata of the issuer of {name!r} could not be read:"
                    f" {_short_error(exc)}.",
                    "Check the issuer URL and that the provider is reachable"
                    " from here.",
                    name,
                )
                continue
            if meta is None:  # pragma: no cover - the issuer is set
                continue
            if not meta.supports_pkce_s256():
                self.add(
                    WARNING,
                    "provider-no-pkce-s256",
                    f"{name!r}'s provider does not announce PKCE with S256"
                    " (code_challenge_methods_supported): PKCE is still sent,"
                    " but only the state protects the callback.",
                    "Enable PKCE S256 for this client at the provider, if it can.",
                    name,
                )
            if not meta.authorization_response_iss_parameter_supported:
                self.add(
                    WARNING,
                    "provider-no-iss-parameter",
                    f"{name!r}'s provider does not announce"
                    " authorization_response_iss_parameter_supported (RFC 9207):"
                    " mix-up attacks are stopped only by the distinct callback"
                    " URL of each provider.",
                    "Keep one callback URL per provider; enable the 'iss'"
                    " response parameter at the provider, if it can.",
                    name,
                )


def _callback_path(app: Flask, name: str) -> str:
    """The path of the blueprint's callback route, as registered on ``app``."""
    for rule in app.url_map.iter_rules(f"{name}.authorized"):
        return rule.rule
    return f"/{name}/authorized"  # pragma: no cover - every blueprint has one


#: Object reprs such as ``<urllib3.connection.HTTPSConnection object at 0x7f...>``.
_REPR = re.compile(r"<[^<>]* at 0x[0-9a-f]+>:?\s*")
#: The longest error text a finding quotes.
_MAX_ERROR_CHARS = 240


def _short_error(exc: BaseException) -> str:
    """``exc``'s message on one line, without object reprs, cut short."""
    text = _REPR.sub("", " ".join(str(exc).split()))
    if len(text) > _MAX_ERROR_CHARS:
        text = text[: _MAX_ERROR_CHARS - 1].rstrip() + "…"
    return text.rstrip(".") or type(exc).__name__


def _has_proxy_fix(wsgi_app: t.Any) -> bool:
    """Whether ``wsgi_app`` is a ProxyFix, or wraps one through the usual
    ``app`` or ``wsgi_app`` attributes of middleware."""
    seen: set[int] = set()
    current = wsgi_app
    while current is not None and id(current) not in seen:
        if isinstance(current, ProxyFix):
            return True
        seen.add(id(current))
        current = getattr(current, "app", None) or getattr(current, "wsgi_app", None)
    return False


def audit(app: Flask | None = None, *, discover: bool = True) -> list[Finding]:
    """Check an app's Flask-Dance setup and return the problems found,
    errors first.

    The checks cover the secret key, the session cookie's ``Secure`` and
    ``SameSite`` settings, ``OAUTHLIB_INSECURE_TRANSPORT``, plain-HTTP
    redirect URIs, a missing ``ProxyFix`` behind a proxy, missing client ids
    and secrets (after applying each blueprint's ``from_config``), tokens
    kept unencrypted in the session, and, for blueprints with an ``issuer``,
    the provider's metadata (PKCE S256 and the RFC 9207 ``iss`` parameter).

    :param app: The app; the current app by default.
    :param discover: Fetch the metadata of OpenID Connect issuers. A failed
        discovery is reported as a finding.
    """
    if app is None:
        app = t.cast("Flask", current_app._get_current_object())  # type: ignore[attr-defined]
    with app.app_context():
        findings = _Audit(app, discover=discover).run()
    return sorted(findings, key=lambda finding: finding.level != ERROR)
