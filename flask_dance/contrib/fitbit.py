"""Fitbit Web API: https://dev.fitbit.com/build/reference/web-api/authorization/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("fitbit")
def make_fitbit_blueprint(
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
    """Make a blueprint for reading a user's Fitbit data.

    Register an app at https://dev.fitbit.com/apps with the ``authorized`` view
    as its redirect URL. Tokens are refreshed automatically, with the client
    credentials sent as HTTP Basic authentication.
    """
    return _base.oauth2_blueprint(
        "fitbit",
        __name__,
        locals(),
        base_url="https://api.fitbit.com/",
        authorization_url="https://www.fitbit.com/oauth2/authorize",
        token_url="https://api.fitbit.com/oauth2/token",
        refresh=True,
    )


#: The session of the current request, for the ``fitbit`` blueprint.
fitbit: OAuth2Session = _base.session_proxy("fitbit")  # type: ignore[assignment]
