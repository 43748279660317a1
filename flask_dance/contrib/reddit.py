"""Reddit: https://github.com/reddit-archive/reddit/wiki/OAuth2"""

from __future__ import annotations

import typing as t

from .. import __version__
from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


#: The ``User-Agent`` sent when none is given. Reddit asks for a unique and
#: descriptive one, such as ``"web:com.example.app:v1.0 (by /u/you)"``.
DEFAULT_USER_AGENT = f"Flask-Dance/{__version__}"


class RedditOAuth2Session(OAuth2Session):
    """A session that sends the blueprint's ``user_agent`` (or
    :data:`DEFAULT_USER_AGENT`) as ``User-Agent``, as Reddit requires.

    The blueprint from :func:`make_reddit_blueprint` sets the header on any
    session class; this class is for building a session yourself.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        user_agent = getattr(self.blueprint, "user_agent", None)
        self.headers["User-Agent"] = user_agent or DEFAULT_USER_AGENT


@_base.preset_docs("reddit")
def make_reddit_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = "identity",
    permanent: bool = False,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    user_agent: str | None = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Reddit.

    Create a "web app" at https://www.reddit.com/prefs/apps with the
    ``authorized`` view as its redirect URI. API paths are relative to
    ``https://oauth.reddit.com/``. Tokens are refreshed automatically when
    there is a refresh token.

    :param scope: The scopes to ask for. Default: ``"identity"``.
    :param permanent: Ask for a refresh token (``duration=permanent``).
    :param user_agent: The ``User-Agent`` of every request, whatever the
        session class. Default: :data:`DEFAULT_USER_AGENT`. It is kept as the
        blueprint's ``user_agent`` attribute, which you may change later.
    """
    return _base.oauth2_blueprint(
        "reddit",
        __name__,
        locals(),
        base_url="https://oauth.reddit.com/",
        authorization_url="https://www.reddit.com/api/v1/authorize",
        authorization_url_params=_base.given(
            duration="permanent" if permanent else None
        ),
        token_url="https://www.reddit.com/api/v1/access_token",
        refresh=True,
        user_agent=user_agent or DEFAULT_USER_AGENT,
    )


#: The session of the current request, for the ``reddit`` blueprint.
reddit: OAuth2Session = _base.session_proxy("reddit")  # type: ignore[assignment]
