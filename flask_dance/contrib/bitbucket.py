"""Bitbucket Cloud: https://developer.atlassian.com/cloud/bitbucket/oauth-2/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("bitbucket")
def make_bitbucket_blueprint(
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
    """Make a blueprint for signing in with Bitbucket Cloud.

    Add an OAuth consumer in your workspace settings
    (``https://bitbucket.org/<workspace>/workspace/settings/api``), mark it
    private, give it a callback URL pointing to the ``authorized`` view and
    pick its permissions there: Bitbucket takes scopes from the consumer, so
    ``scope`` is usually left out. API paths are relative to
    ``https://api.bitbucket.org/2.0/``, such as ``user``. Tokens (valid for two
    hours) are refreshed automatically.
    """
    return _base.oauth2_blueprint(
        "bitbucket",
        __name__,
        locals(),
        base_url="https://api.bitbucket.org/2.0/",
        authorization_url="https://bitbucket.org/site/oauth2/authorize",
        token_url="https://bitbucket.org/site/oauth2/access_token",
        refresh=True,
    )


#: The session of the current request, for the ``bitbucket`` blueprint.
bitbucket: OAuth2Session = _base.session_proxy("bitbucket")  # type: ignore[assignment]
