"""X, formerly Twitter (OAuth 2.0 with PKCE):
https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

_DEFAULT_SCOPE = ["tweet.read", "users.read"]
_TOKEN_URL = "https://api.x.com/2/oauth2/token"


@_base.preset_docs("twitter")
def make_twitter_blueprint(
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
    """Make a blueprint for signing in with X (Twitter), OAuth 2.0.

    In the developer portal (https://developer.x.com/en/portal/dashboard), set
    up "User authentication" for your app as a "Web App" (a confidential
    client) and add the ``authorized`` view to its callback URIs. Use the OAuth
    2.0 client ID and secret, not the API key. PKCE is always on. API paths are
    relative to ``https://api.x.com/2/``, such as ``users/me``. Add
    ``offline.access`` to the scopes to get a refresh token; tokens are then
    refreshed automatically.

    This replaces the OAuth 1.0a ``twitter`` preset that Flask-Dance 7.0
    removed.

    :param scope: The scopes to ask for. Default:
        ``["tweet.read", "users.read"]``.
    """
    scope = scope or _DEFAULT_SCOPE
    offline = "offline.access" in _base.scope_list(scope)
    return _base.oauth2_blueprint(
        "twitter",
        __name__,
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        base_url="https://api.x.com/2/",
        authorization_url="https://x.com/i/oauth2/authorize",
        token_url=_TOKEN_URL,
        auto_refresh_url=_TOKEN_URL if offline else None,
        use_pkce=True,
        code_challenge_method="S256",
        redirect_url=redirect_url,
        redirect_to=redirect_to,
        redirect_uri=redirect_uri,
        login_url=login_url,
        authorized_url=authorized_url,
        session_class=session_class,
        storage=storage,
        rule_kwargs=rule_kwargs,
    )


#: The session of the current request, for the ``twitter`` blueprint.
twitter: OAuth2Session = _base.session_proxy("twitter")  # type: ignore[assignment]
