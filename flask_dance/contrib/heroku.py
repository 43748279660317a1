"""Heroku Platform API: https://devcenter.heroku.com/articles/oauth"""

from __future__ import annotations

import typing as t

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


def _accept(api_version: str) -> dict[str, str]:
    return {"Accept": f"application/vnd.heroku+json; version={api_version}"}


class HerokuOAuth2Session(OAuth2Session):
    """A session that asks for a given version of the Heroku Platform API.

    The blueprint from :func:`make_heroku_blueprint` sets the header on any
    session class; this class is for building a session yourself.
    """

    def __init__(self, *args: t.Any, api_version: str = "3", **kwargs: t.Any) -> None:
        """
        :param api_version: The Platform API version to ask for.
        """
        super().__init__(*args, **kwargs)
        self.headers.update(_accept(api_version))


@_base.preset_docs("heroku")
def make_heroku_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    api_version: str = "3",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Heroku.

    Register an API client at https://dashboard.heroku.com/account/applications
    with the ``authorized`` view as its OAuth callback URL. API paths are
    relative to ``https://api.heroku.com/``.

    :param api_version: The Platform API version, sent in the ``Accept``
        header of every request, whatever the session class.
    """
    return _base.oauth2_blueprint(
        "heroku",
        __name__,
        locals(),
        base_url="https://api.heroku.com/",
        authorization_url="https://id.heroku.com/oauth/authorize",
        token_url="https://id.heroku.com/oauth/token",
        session_setup=[_base.set_headers(_accept(api_version))],
    )


#: The session of the current request, for the ``heroku`` blueprint.
heroku: OAuth2Session = _base.session_proxy("heroku")  # type: ignore[assignment]
