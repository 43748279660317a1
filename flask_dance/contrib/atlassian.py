"""Atlassian (Jira Cloud, Confluence Cloud, OAuth 2.0 3LO):
https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("atlassian")
def make_atlassian_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    reprompt_consent: bool = False,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with an Atlassian account.

    Create an OAuth 2.0 integration at
    https://developer.atlassian.com/console/myapps/ and add the ``authorized``
    view as its callback URL. The authorization request always asks for the
    ``api.atlassian.com`` audience. Add ``offline_access`` to the scopes to get
    a refresh token.

    :param reprompt_consent: Ask the user to consent again even if they
        already did (``prompt=consent``).
    """
    return _base.oauth2_blueprint(
        "atlassian",
        __name__,
        locals(),
        base_url="https://api.atlassian.com/",
        authorization_url="https://auth.atlassian.com/authorize",
        authorization_url_params=_base.given(
            audience="api.atlassian.com",
            prompt="consent" if reprompt_consent else None,
        ),
        token_url="https://auth.atlassian.com/oauth/token",
    )


#: The session of the current request, for the ``atlassian`` blueprint.
atlassian: OAuth2Session = _base.session_proxy("atlassian")  # type: ignore[assignment]
