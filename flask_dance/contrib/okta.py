"""Okta (OpenID Connect): https://developer.okta.com/docs/guides/sign-into-web-app-redirect/

Needs the ``oidc`` extra (PyJWT and cryptography).
"""

from __future__ import annotations

from urllib.parse import quote

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base
from .oidc import _oidc_preset
from .oidc import _provider_url
from .oidc import DEFAULT_SCOPE

__maintainer__ = "Flask-Dance contributors"


def okta_issuer(domain: str, authorization_server: str | None = "default") -> str:
    """The issuer of an Okta authorization server.

    :param domain: The Okta domain, such as ``dev-123456.okta.com``.
    :param authorization_server: The ID of a custom authorization server, or
        ``None`` for the org authorization server.
    """
    org = _provider_url(domain, param="domain", example="dev-123456.okta.com")
    if authorization_server is None:
        return org
    return f"{org}/oauth2/{quote(authorization_server, safe='')}"


@_base.preset_docs("okta")
def make_okta_blueprint(
    domain: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    authorization_server: str | None = "default",
    scope: _base.Scope = DEFAULT_SCOPE,
    max_age: int | None = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Okta.

    In the Okta Admin Console, create an app integration of type "OIDC -
    OpenID Connect" / "Web Application" and add the ``authorized`` view to its
    "Sign-in redirect URIs". The issuer is
    ``https://{domain}/oauth2/{authorization_server}``. API paths are relative
    to ``https://{domain}/``.

    :param domain: Your Okta domain, such as ``dev-123456.okta.com``, or a
        custom domain.
    :param authorization_server: The ID of the custom authorization server.
        Default: ``"default"``. ``None`` uses the org authorization server
        (issuer ``https://{domain}``).
    :param scope: The scopes to ask for; ``openid`` is added when missing.
        Default: ``"openid profile email"``. Add ``offline_access`` for a
        refresh token.
    :param max_age: Ask Okta to sign in again users whose last login is older
        than this many seconds.
    """
    return _oidc_preset(
        "okta",
        __name__,
        locals(),
        issuer=okta_issuer(domain, authorization_server),
        base_url=_base.with_slash(okta_issuer(domain, None)),
    )


#: The session of the current request, for the ``okta`` blueprint.
okta: OAuth2Session = _base.session_proxy("okta")  # type: ignore[assignment]
