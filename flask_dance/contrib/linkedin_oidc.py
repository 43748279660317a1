"""Sign In with LinkedIn using OpenID Connect:
https://learn.microsoft.com/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2

Needs the ``oidc`` extra (PyJWT and cryptography).
"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base
from .oidc import _oidc_preset
from .oidc import DEFAULT_SCOPE

__maintainer__ = "Flask-Dance contributors"

#: LinkedIn's issuer.
ISSUER = "https://www.linkedin.com/oauth"


@_base.preset_docs("linkedin_oidc")
def make_linkedin_oidc_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = DEFAULT_SCOPE,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with LinkedIn, using OpenID Connect.

    Create an app at https://www.linkedin.com/developers/apps, add the "Sign
    In with LinkedIn using OpenID Connect" product, and add the ``authorized``
    view to its "Authorized redirect URLs". The issuer is
    ``https://www.linkedin.com/oauth``; id_tokens must be signed with RS256.
    The client credentials are sent in the body of token requests. API paths
    are relative to ``https://api.linkedin.com/v2/``.

    For the older, plain OAuth 2 "Sign In with LinkedIn", see
    :func:`~flask_dance.contrib.linkedin.make_linkedin_blueprint`.

    :param scope: The scopes to ask for; ``openid`` is added when missing.
        Default: ``"openid profile email"``.
    """
    return _oidc_preset(
        "linkedin_oidc",
        __name__,
        locals(),
        issuer=ISSUER,
        base_url="https://api.linkedin.com/v2/",
        credentials_in_body=True,
        id_token_algorithms=("RS256",),
    )


#: The session of the current request, for the ``linkedin_oidc`` blueprint.
linkedin_oidc: OAuth2Session = _base.session_proxy("linkedin_oidc")  # type: ignore[assignment]
