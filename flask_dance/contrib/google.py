"""Google: https://developers.google.com/identity/protocols/oauth2/web-server"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

_DEFAULT_SCOPE = ["https://www.googleapis.com/auth/userinfo.profile"]

#: The authorization and token endpoints Flask-Dance always used.
LEGACY_ENDPOINTS = (
    "https://accounts.google.com/o/oauth2/auth",
    "https://accounts.google.com/o/oauth2/token",
)
#: The endpoints Google documents today (and lists in its OpenID Connect
#: discovery document).
CURRENT_ENDPOINTS = (
    "https://accounts.google.com/o/oauth2/v2/auth",
    "https://oauth2.googleapis.com/token",
)


@_base.preset_docs("google")
def make_google_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    offline: bool = False,
    reprompt_consent: bool = False,
    reprompt_select_account: bool = False,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    hosted_domain: str | None = None,
    rule_kwargs: _base.RuleKwargs = None,
    legacy_endpoints: bool = True,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Google.

    Create an "OAuth client ID" of type "Web application" at
    https://console.cloud.google.com/apis/credentials and add the
    ``authorized`` view to its "Authorized redirect URIs". API paths are
    relative to ``https://www.googleapis.com/``.

    :param scope: The scopes to ask for. Default:
        ``["https://www.googleapis.com/auth/userinfo.profile"]``.
    :param offline: Ask for a refresh token (``access_type=offline``); tokens
        are then refreshed automatically.
    :param reprompt_consent: Show the consent screen again
        (``prompt=consent``). Google sends a new refresh token only then.
    :param reprompt_select_account: Let the user pick an account again
        (``prompt=select_account``).
    :param hosted_domain: Sent as ``hd``: only a hint for Google's account
        chooser. Anyone can still sign in with another domain, so check the
        ``hd`` claim of the ID token (or the user info) yourself.
    :param legacy_endpoints: ``True`` (the default) uses the endpoints
        Flask-Dance always used, ``accounts.google.com/o/oauth2/auth`` and
        ``accounts.google.com/o/oauth2/token``. ``False`` uses the current
        ones, ``accounts.google.com/o/oauth2/v2/auth`` and
        ``oauth2.googleapis.com/token``.
    """
    authorization_url, token_url = (
        LEGACY_ENDPOINTS if legacy_endpoints else CURRENT_ENDPOINTS
    )
    prompts = [
        prompt
        for prompt, wanted in (
            ("consent", reprompt_consent),
            ("select_account", reprompt_select_account),
        )
        if wanted
    ]
    params = _base.given(
        access_type="offline" if offline else None,
        prompt=" ".join(prompts) or None,
        hd=hosted_domain or None,
    )
    return _base.oauth2_blueprint(
        "google",
        __name__,
        locals(),
        base_url="https://www.googleapis.com/",
        authorization_url=authorization_url,
        authorization_url_params=params,
        token_url=token_url,
        default_scope=_DEFAULT_SCOPE,
        refresh=offline,
    )


#: The session of the current request, for the ``google`` blueprint.
google: OAuth2Session = _base.session_proxy("google")  # type: ignore[assignment]
