"""Strava: https://developers.strava.com/docs/authentication/"""

from __future__ import annotations

import typing as t

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


class StravaOAuth2Session(OAuth2Session):
    """A session whose :meth:`fetch_token` sends the client credentials in
    the request body, as Strava requires.

    The blueprint from :func:`make_strava_blueprint` does this with any
    session class; this class is for building a session yourself.
    """

    def fetch_token(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Fetch a token; see :meth:`requests_oauthlib.OAuth2Session.fetch_token`.

        :param args: Passed on.
        :param kwargs: Passed on; ``include_client_id`` defaults to ``True``.
        """
        kwargs.setdefault("include_client_id", True)
        return super().fetch_token(*args, **kwargs)


@_base.preset_docs("strava")
def make_strava_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = "read",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    user_agent: str | None = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Strava.

    Create an API application at https://www.strava.com/settings/api and set
    its "Authorization Callback Domain" to your site's host name. API paths are
    relative to ``https://www.strava.com/api/v3/``, such as ``athlete``.
    Tokens (valid for six hours) are refreshed automatically, with the client
    credentials in the request body.

    :param scope: The scopes to ask for, comma-separated. Default: ``"read"``.
    :param user_agent: The ``User-Agent`` of every request, when given.
    """
    return _base.oauth2_blueprint(
        "strava",
        __name__,
        locals(),
        base_url="https://www.strava.com/api/v3",
        authorization_url="https://www.strava.com/api/v3/oauth/authorize",
        token_url="https://www.strava.com/api/v3/oauth/token",
        credentials_in_body=True,
        refresh=True,
    )


#: The session of the current request, for the ``strava`` blueprint.
strava: OAuth2Session = _base.session_proxy("strava")  # type: ignore[assignment]
