"""Meetup: https://www.meetup.com/api/authentication/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("meetup")
def make_meetup_blueprint(
    key: str | None = None,
    secret: str | None = None,
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
    """Make a blueprint for signing in with Meetup.

    Create an OAuth client at https://www.meetup.com/api/oauth/list/ with the
    ``authorized`` view as its redirect URI. The client credentials are sent
    in the token request's body.

    :param key: The OAuth client key. Default: the ``MEETUP_OAUTH_CLIENT_ID``
        config value.
    :param secret: The OAuth client secret. Default: the
        ``MEETUP_OAUTH_CLIENT_SECRET`` config value.
    :param scope: The scopes to ask for. Default: ``["basic"]``.
    """
    return _base.oauth2_blueprint(
        "meetup",
        __name__,
        locals(),
        client_id=key,
        client_secret=secret,
        base_url="https://api.meetup.com/2/",
        authorization_url="https://secure.meetup.com/oauth2/authorize",
        token_url="https://secure.meetup.com/oauth2/access",
        default_scope=["basic"],
        credentials_in_body=True,
    )


#: The session of the current request, for the ``meetup`` blueprint.
meetup: OAuth2Session = _base.session_proxy("meetup")  # type: ignore[assignment]
