"""Discord: https://discord.com/developers/docs/topics/oauth2"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("discord")
def make_discord_blueprint(
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
    prompt: str | None = "consent",
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Discord.

    Create an application at https://discord.com/developers/applications and
    add the ``authorized`` view as a redirect in its OAuth2 settings.

    :param scope: The scopes to ask for. Default: ``["identify"]``.
    :param prompt: Sent as ``prompt``: ``"consent"`` (the default) asks the
        user to authorize again, ``"none"`` skips the screen for users who
        already did. ``None`` sends no ``prompt`` at all.
    """
    return _base.oauth2_blueprint(
        "discord",
        __name__,
        locals(),
        base_url="https://discord.com/",
        authorization_url="https://discord.com/api/oauth2/authorize",
        authorization_url_params=_base.given(prompt=prompt),
        token_url="https://discord.com/api/oauth2/token",
        default_scope=["identify"],
    )


#: The session of the current request, for the ``discord`` blueprint.
discord: OAuth2Session = _base.session_proxy("discord")  # type: ignore[assignment]
