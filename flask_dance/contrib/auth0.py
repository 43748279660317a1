"""Auth0 (OpenID Connect): https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow

Needs the ``oidc`` extra (PyJWT and cryptography).
"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base
from .oidc import _oidc_preset
from .oidc import _provider_url
from .oidc import DEFAULT_SCOPE

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("auth0")
def make_auth0_blueprint(
    domain: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = DEFAULT_SCOPE,
    audience: str | None = None,
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
    """Make a blueprint for signing in with Auth0.

    In the Auth0 Dashboard, create an application of type "Regular Web
    Application" and add the ``authorized`` view to its "Allowed Callback
    URLs". The issuer is ``https://{domain}/`` (with the trailing slash Auth0
    puts in its id_tokens). API paths are relative to ``https://{domain}/``.

    :param domain: Your tenant's domain, such as ``example.us.auth0.com``, or
        a custom domain.
    :param scope: The scopes to ask for; ``openid`` is added when missing.
        Default: ``"openid profile email"``. Add ``offline_access`` for a
        refresh token.
    :param audience: The identifier of one of your Auth0 APIs: the access
        token is then a JWT for that API.
    :param max_age: Ask Auth0 to sign in again users whose last login is older
        than this many seconds.
    """
    tenant = _provider_url(domain, param="domain", example="example.us.auth0.com")
    return _oidc_preset(
        "auth0",
        __name__,
        locals(),
        issuer=f"{tenant}/",
        base_url=f"{tenant}/",
        authorization_url_params=_base.given(audience=audience or None),
    )


#: The session of the current request, for the ``auth0`` blueprint.
auth0: OAuth2Session = _base.session_proxy("auth0")  # type: ignore[assignment]
