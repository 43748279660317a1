"""Keycloak (OpenID Connect): https://www.keycloak.org/docs/latest/server_admin/#con-oidc_server_administration_guide

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


def keycloak_issuer(server_url: str, realm: str) -> str:
    """The issuer of a Keycloak realm: ``{server_url}/realms/{realm}``.

    :param server_url: The server's URL, such as ``https://sso.example.com``.
    :param realm: The realm's name.
    :raises ValueError: when ``server_url`` is not an absolute URL or
        ``realm`` is empty.
    """
    server = _provider_url(
        server_url, param="server_url", example="https://sso.example.com"
    )
    if not realm:
        raise ValueError("'realm' must name a Keycloak realm, such as 'myrealm'.")
    return f"{server}/realms/{quote(realm, safe='')}"


@_base.preset_docs("keycloak")
def make_keycloak_blueprint(
    server_url: str,
    realm: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
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
    """Make a blueprint for signing in with Keycloak.

    In the realm's admin console, create an "OpenID Connect" client with
    "Client authentication" on and the "Standard flow", and add the
    ``authorized`` view to its "Valid redirect URIs". The issuer is
    ``{server_url}/realms/{realm}``. API paths are relative to
    ``{issuer}/protocol/openid-connect/``.

    :param server_url: The Keycloak server's URL, such as
        ``https://sso.example.com``. Keycloak 16 and older serve under
        ``/auth``: then pass ``https://sso.example.com/auth``.
    :param realm: The realm's name.
    :param scope: The scopes to ask for; ``openid`` is added when missing.
        Default: ``"openid profile email"``.
    :param max_age: Ask Keycloak to sign in again users whose last login is
        older than this many seconds.
    """
    issuer = keycloak_issuer(server_url, realm)
    return _oidc_preset(
        "keycloak",
        __name__,
        locals(),
        issuer=issuer,
        base_url=f"{issuer}/protocol/openid-connect/",
    )


#: The session of the current request, for the ``keycloak`` blueprint.
keycloak: OAuth2Session = _base.session_proxy("keycloak")  # type: ignore[assignment]
