"""Twitch: https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/"""

from __future__ import annotations

import typing as t

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


def _send_client_id(session: OAuth2Session) -> None:
    """Add a ``Client-Id`` header, with the client ID in effect at the time of
    each request, to the session's API requests."""

    def add_header(
        url: str, headers: dict[str, str] | None, data: t.Any
    ) -> tuple[str, dict[str, str] | None, t.Any]:
        blueprint = getattr(session, "blueprint", None)
        client_id = getattr(blueprint, "client_id", None) or session.client_id
        if client_id:
            headers = dict(headers or {})
            headers.setdefault("Client-Id", client_id)
        return url, headers, data

    session.register_compliance_hook("protected_request", add_header)


class ClientIdHeaderOAuth2Session(OAuth2Session):
    """A session that sends the client ID in a ``Client-Id`` header with each
    API request, as the Twitch API requires."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        _send_client_id(self)


def _client_id_header(
    blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session
) -> None:
    if not isinstance(session, ClientIdHeaderOAuth2Session):
        _send_client_id(session)


@_base.preset_docs("twitch")
def make_twitch_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] = ClientIdHeaderOAuth2Session,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Twitch.

    Register an application at https://dev.twitch.tv/console/apps with the
    ``authorized`` view as its OAuth redirect URL. API paths are relative to
    ``https://api.twitch.tv/helix/``. Every API request carries the
    ``Client-Id`` header, and tokens are refreshed automatically with the
    client credentials in the request body, also when they come from the app's
    config and whatever the session class.

    :param session_class: The session class to build for each request.
        Default: :class:`ClientIdHeaderOAuth2Session`.
    """
    return _base.oauth2_blueprint(
        "twitch",
        __name__,
        locals(),
        base_url="https://api.twitch.tv/helix/",
        authorization_url="https://id.twitch.tv/oauth2/authorize",
        token_url="https://id.twitch.tv/oauth2/token",
        credentials_in_body=True,
        refresh=True,
        session_setup=[_client_id_header],
    )


#: The session of the current request, for the ``twitch`` blueprint.
twitch: OAuth2Session = _base.session_proxy("twitch")  # type: ignore[assignment]
