"""Dropbox: https://developers.dropbox.com/oauth-guide"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("dropbox")
def make_dropbox_blueprint(
    app_key: str | None = None,
    app_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    offline: bool = False,
    force_reapprove: bool = False,
    disable_signup: bool = False,
    require_role: str | None = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Dropbox.

    Create an app at https://www.dropbox.com/developers/apps and add the
    ``authorized`` view to its redirect URIs. API paths are relative to
    ``https://api.dropbox.com/2/``.

    :param app_key: The app key. Default: the ``DROPBOX_OAUTH_CLIENT_ID``
        config value.
    :param app_secret: The app secret. Default: the
        ``DROPBOX_OAUTH_CLIENT_SECRET`` config value.
    :param offline: Ask for a refresh token (``token_access_type=offline``);
        the short-lived access tokens are then refreshed automatically.
    :param force_reapprove: Ask the user to approve the app again.
    :param disable_signup: Hide the sign-up link on the login page.
    :param require_role: ``"personal"`` or ``"work"``: which of a user's linked
        accounts may sign in.
    """
    params = _base.given(
        token_access_type="offline" if offline else None,
        force_reapprove="true" if force_reapprove else None,
        disable_signup="true" if disable_signup else None,
        require_role=require_role or None,
    )
    return _base.oauth2_blueprint(
        "dropbox",
        __name__,
        locals(),
        client_id=app_key,
        client_secret=app_secret,
        base_url="https://api.dropbox.com/2/",
        authorization_url="https://www.dropbox.com/oauth2/authorize",
        authorization_url_params=params,
        token_url="https://api.dropbox.com/oauth2/token",
        refresh=offline,
    )


#: The session of the current request, for the ``dropbox`` blueprint.
dropbox: OAuth2Session = _base.session_proxy("dropbox")  # type: ignore[assignment]
