"""Facebook Login: https://developers.facebook.com/docs/facebook-login/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("facebook")
def make_facebook_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    rerequest_declined_permissions: bool = False,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Facebook.

    Create an app at https://developers.facebook.com/apps/, add the Facebook
    Login product, and list the ``authorized`` view under "Valid OAuth
    Redirect URIs". API paths are relative to ``https://graph.facebook.com/``
    (no API version is pinned; put one in the path, such as ``v19.0/me``).

    :param rerequest_declined_permissions: Ask again for permissions the user
        declined before (``auth_type=rerequest``).
    """
    return _base.oauth2_blueprint(
        "facebook",
        __name__,
        locals(),
        base_url="https://graph.facebook.com/",
        authorization_url="https://www.facebook.com/dialog/oauth",
        authorization_url_params=_base.given(
            auth_type="rerequest" if rerequest_declined_permissions else None
        ),
        token_url="https://graph.facebook.com/oauth/access_token",
    )


#: The session of the current request, for the ``facebook`` blueprint.
facebook: OAuth2Session = _base.session_proxy("facebook")  # type: ignore[assignment]
