"""Any OpenID Connect provider: https://openid.net/specs/openid-connect-core-1_0.html

The provider's endpoints come from its discovery document, at
``{issuer}/.well-known/openid-configuration``. Every login's id_token is
validated before the token is stored; its claims are then in
``token["id_token_claims"]`` and :attr:`~.OAuth2ConsumerBlueprint.id_token_claims`.

Needs the ``oidc`` extra (PyJWT and cryptography).
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

#: The scope OpenID Connect presets ask for unless told otherwise.
DEFAULT_SCOPE = "openid profile email"


def _openid_scope(scope: _base.Scope) -> list[str]:
    """``scope`` as a list that starts with ``openid``, added when missing:
    without it the provider answers a plain OAuth 2 token and the login fails.

    :param scope: A string, a sequence of strings, or ``None``.
    """
    words = _base.scope_list(scope)
    if "openid" not in words:
        words.insert(0, "openid")
    return words


#: The OpenID Connect arguments a preset factory may take, passed on to the
#: blueprint under the same name.
_OIDC_PASSED_ON = (
    "max_age",
    "response_mode",
    "authorization_url_params",
    "trusted_audiences",
    "id_token_algorithms",
    "post_logout_redirect_uri",
)


def _oidc_preset(
    name: str,
    import_name: str,
    factory_args: cabc.Mapping[str, t.Any],
    *,
    issuer: str,
    **kwargs: t.Any,
) -> OAuth2ConsumerBlueprint:
    """Build the blueprint of an OpenID Connect preset: as
    :func:`._base.oauth2_blueprint`, with ``openid`` added to the factory's
    ``scope`` and the factory's OpenID Connect options passed on.

    :param name: The blueprint's name.
    :param import_name: The preset module's ``__name__``.
    :param factory_args: The factory's arguments (``locals()``).
    :param issuer: The provider's issuer identifier.
    :param kwargs: Passed to :func:`._base.oauth2_blueprint`.
    """
    return _base.oauth2_blueprint(
        name,
        import_name,
        factory_args,
        passed_on=_OIDC_PASSED_ON,
        issuer=issuer,
        scope=_openid_scope(factory_args["scope"]),
        **kwargs,
    )


def make_oidc_blueprint(
    name: str,
    issuer: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = DEFAULT_SCOPE,
    base_url: str | None = None,
    max_age: int | None = None,
    response_mode: str | None = None,
    authorization_url_params: dict[str, t.Any] | None = None,
    trusted_audiences: cabc.Collection[str] = (),
    id_token_algorithms: cabc.Collection[str] | None = None,
    post_logout_redirect_uri: str | None = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
    **kwargs: t.Any,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with any OpenID Connect provider.

    Register a "web application" client with the provider, with the
    ``authorized`` view (``/login/<name>/authorized`` under the usual
    ``url_prefix="/login"``) as its redirect URI. Several providers can be used
    at once: give each blueprint its own ``name``.

    The session of the current request is :func:`oidc_session(name)
    <oidc_session>`, or ``bp.session``.

    :param name: The blueprint's name. It is also the config prefix:
        ``<NAME>_OAUTH_CLIENT_ID`` and ``<NAME>_OAUTH_CLIENT_SECRET``, with
        ``name`` in upper case.
    :param issuer: The provider's issuer identifier, such as
        ``https://accounts.example.com``. It must equal the ``issuer`` of the
        discovery document and the ``iss`` of every id_token.
    :param client_id: The client ID of your application. Default: the
        ``<NAME>_OAUTH_CLIENT_ID`` config value.
    :param client_secret: The client secret of your application. Default: the
        ``<NAME>_OAUTH_CLIENT_SECRET`` config value.
    :param scope: The scopes to ask for; ``openid`` is added when missing.
        Default: ``"openid profile email"``.
    :param base_url: The root of relative API paths. Default: the issuer, with
        a trailing slash.
    :param max_age: Ask the provider to sign in again users whose last login
        is older than this many seconds; the id_token's ``auth_time`` is
        checked.
    :param response_mode: ``"form_post"`` to receive the callback as a POST.
    :param authorization_url_params: Extra query parameters of the
        authorization request, such as ``{"prompt": "login"}``.
    :param trusted_audiences: Audiences besides the client ID that an
        id_token may name.
    :param id_token_algorithms: The id_token signature algorithms accepted.
        Default: RSA, RSA-PSS, ECDSA and EdDSA; never ``none``.
    :param post_logout_redirect_uri: Where the provider sends the user after
        logging out. Default: the ``logged_out`` view.
    :param redirect_url: Where to send the user after the login, as a URL.
    :param redirect_to: Where to send the user after the login, as an endpoint
        name for :func:`flask.url_for`. Used when ``redirect_url`` is not set.
    :param login_url: The URL rule of the login view. Default: ``/<name>``.
    :param authorized_url: The URL rule of the view the provider redirects back
        to. Default: ``/<name>/authorized``.
    :param session_class: The session class to build for each request.
        Default: :class:`~flask_dance.consumer.requests.OAuth2Session`.
    :param storage: The token storage. Default:
        :class:`~flask_dance.consumer.storage.session.SessionStorage`.
    :param rule_kwargs: Extra keyword arguments for the URL rules, such as
        ``host``.
    :param redirect_uri: The fixed, absolute callback URL registered with the
        provider, such as ``https://app.example/login/<name>/authorized``.
        Default: built from the current request.
    :param kwargs: Other arguments of
        :class:`~flask_dance.consumer.OAuth2ConsumerBlueprint`, such as
        ``userinfo_url`` or ``jwks_url`` for a provider whose discovery
        document lacks them.
    :return: The blueprint; :func:`oidc_session(name) <oidc_session>` is the
        proxy to its session.
    """
    return _oidc_preset(
        name,
        __name__,
        locals(),
        issuer=issuer,
        base_url=base_url or _base.with_slash(issuer),
        **kwargs,
    )


def oidc_session(name: str) -> OAuth2Session:
    """The proxy to the session of the current request, for the blueprint
    called ``name``: the counterpart of the ``github`` proxy for a blueprint
    made with :func:`make_oidc_blueprint`.

    Make it once, at import time, and use it like the other proxies::

        corp = oidc_session("corp")

        @app.route("/projects")
        def projects():
            return corp.get("api/projects").json()

    :param name: The blueprint's name.
    """
    return _base.session_proxy(name)  # type: ignore[return-value]


def _provider_url(value: str, *, param: str, example: str) -> str:
    """The provider's location that an OpenID Connect preset was given,
    checked, as an absolute URL without a trailing slash: the root of its
    issuer.

    ``example`` shows the form the parameter takes: a host name, such as
    ``dev-123456.okta.com`` (a port is allowed; the URL is ``https://`` that
    host), or an absolute ``https`` or ``http`` URL, such as
    ``https://sso.example.com``, which may have a path.

    :param value: What the app passed.
    :param param: The parameter's name, for the error message.
    :param example: A valid value, for the error message and the form.
    :raises ValueError: for a value of the other form, an empty host, user
        info, a query or a fragment.
    """
    wants_url = "://" in example
    text = value.strip()
    parts = urlsplit(text if wants_url else f"https://{text}")
    valid = (
        parts.scheme in ("https", "http")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not ("?" in text or "#" in text)
        and (wants_url or not parts.path)
    )
    if not valid:
        form = (
            "an absolute URL"
            if wants_url
            else "a host name, without a scheme or a path,"
        )
        raise ValueError(
            f"'{param}' must be {form} such as '{example}'; got {value!r}."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
