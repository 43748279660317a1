"""Nylas: https://developer.nylas.com/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("nylas")
def make_nylas_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = "email",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for connecting a user's mailbox through Nylas.

    Register the ``authorized`` view as a callback URI of your application in
    the Nylas dashboard (https://dashboard.nylas.com/). The client credentials
    are sent in the token request's body. These are the Nylas API v2
    endpoints on ``api.nylas.com``.

    :param scope: The scopes to ask for. Default: ``"email"``.
    """
    return _base.oauth2_blueprint(
        "nylas",
        __name__,
        locals(),
        base_url="https://api.nylas.com/",
        authorization_url="https://api.nylas.com/oauth/authorize",
        token_url="https://api.nylas.com/oauth/token",
        credentials_in_body=True,
    )


#: The session of the current request, for the ``nylas`` blueprint.
nylas: OAuth2Session = _base.session_proxy("nylas")  # type: ignore[assignment]
