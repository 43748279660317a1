"""Mastodon (one instance per app): https://docs.joinmastodon.org/spec/oauth/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("mastodon")
def make_mastodon_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    hostname: str = "mastodon.social",
    scope: _base.Scope = "read",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with an account on one Mastodon
    instance.

    Client credentials belong to one instance: create an application in its
    preferences (``https://<hostname>/settings/applications``) or with its
    ``POST /api/v1/apps`` API, with the ``authorized`` view as its redirect
    URI and at least the scopes asked for here. API paths are relative to
    ``https://<hostname>/``, such as ``api/v1/accounts/verify_credentials``.

    :param hostname: The instance, such as ``"mastodon.social"``.
    :param scope: The scopes to ask for, a subset of the application's.
        Default: ``"read"``.
    """
    return _base.oauth2_blueprint(
        "mastodon",
        __name__,
        locals(),
        hostname=hostname,
        authorization_url="oauth/authorize",
        token_url="oauth/token",
    )


#: The session of the current request, for the ``mastodon`` blueprint.
mastodon: OAuth2Session = _base.session_proxy("mastodon")  # type: ignore[assignment]
