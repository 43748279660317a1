"""GitHub (OAuth apps): https://docs.github.com/en/apps/oauth-apps"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("github")
def make_github_blueprint(
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
    """Make a blueprint for signing in with GitHub.

    Register an OAuth app at https://github.com/settings/developers with the
    ``authorized`` view as its callback URL. API paths are relative to
    ``https://api.github.com/``.
    """
    return _base.oauth2_blueprint(
        "github",
        __name__,
        locals(),
        base_url="https://api.github.com/",
        authorization_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
    )


#: The session of the current request, for the ``github`` blueprint.
github: OAuth2Session = _base.session_proxy("github")  # type: ignore[assignment]
