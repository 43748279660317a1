"""LinkedIn (OAuth 2.0 authorization code flow):
https://learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("linkedin")
def make_linkedin_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with LinkedIn.

    Create an app at https://www.linkedin.com/developers/apps and add the
    ``authorized`` view to its "Authorized redirect URLs". The client
    credentials are sent in the token request's body. API paths are relative
    to ``https://api.linkedin.com/v2/``.
    """
    return _base.oauth2_blueprint(
        "linkedin",
        __name__,
        locals(),
        base_url="https://api.linkedin.com/v2/",
        authorization_url="https://www.linkedin.com/oauth/v2/authorization",
        token_url="https://www.linkedin.com/oauth/v2/accessToken",
        credentials_in_body=True,
    )


#: The session of the current request, for the ``linkedin`` blueprint.
linkedin: OAuth2Session = _base.session_proxy("linkedin")  # type: ignore[assignment]
