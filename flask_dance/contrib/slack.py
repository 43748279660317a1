"""Slack: https://api.slack.com/authentication/oauth-v2

Two flavours: the legacy OAuth endpoints Flask-Dance always used (the
default), and Slack's current "v2" endpoints with separate bot and user
scopes (``v2=True``).
"""

from __future__ import annotations

import json
import typing as t

from requests_oauthlib.compliance_fixes import slack_compliance_fix

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

if t.TYPE_CHECKING:  # pragma: no cover
    import requests

__maintainer__ = "Flask-Dance contributors"

_LEGACY_DEFAULT_SCOPE = ["identify", "chat:write:bot"]
_TOKEN_FIELDS = ("access_token", "token_type", "scope", "refresh_token", "expires_in")


def _legacy_token_placement(
    blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session
) -> None:
    # The legacy API reads the token from a `token` form or query field.
    slack_compliance_fix(session)


def _normalize_v2_token(response: requests.Response) -> requests.Response:
    """Make an ``oauth.v2.access`` answer an RFC 6749 token: use the user
    token when no bot token was issued, and call the token type ``Bearer``
    (Slack says ``bot`` or ``user``)."""
    try:
        data = response.json()
    except ValueError:
        return response
    if not isinstance(data, dict):
        return response
    user = data.get("authed_user")
    if (
        "access_token" not in data
        and isinstance(user, dict)
        and user.get("access_token")
    ):
        data.update({key: user[key] for key in _TOKEN_FIELDS if key in user})
    if "access_token" in data:
        data["token_type"] = "Bearer"
    response._content = json.dumps(data).encode("utf-8")
    return response


def _v2_token_responses(
    blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session
) -> None:
    session.register_compliance_hook("access_token_response", _normalize_v2_token)
    session.register_compliance_hook("refresh_token_response", _normalize_v2_token)


class SlackBlueprint(_base.PresetOAuth2Blueprint):
    """The blueprint :func:`make_slack_blueprint` returns. Unless given other
    ``session_setup`` steps, its sessions put the token where the legacy Slack
    API expects it: in a ``token`` form field (or query parameter) instead of
    the ``Authorization`` header, unless the request already has one."""

    def __init__(
        self,
        *args: t.Any,
        session_setup: t.Iterable[_base.SessionSetup] | None = None,
        **kwargs: t.Any,
    ) -> None:
        """
        :param args: Passed to :class:`OAuth2ConsumerBlueprint`.
        :param session_setup: Steps run on each new session. Default: the
            legacy token placement.
        :param kwargs: Passed to :class:`OAuth2ConsumerBlueprint`.
        """
        if session_setup is None:
            session_setup = (_legacy_token_placement,)
        super().__init__(*args, session_setup=session_setup, **kwargs)


def _comma_list(scope: _base.Scope) -> str | None:
    if not scope:
        return None
    return scope if isinstance(scope, str) else ",".join(scope)


@_base.preset_docs("slack")
def make_slack_blueprint(
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
    subdomain: str | None = None,
    rule_kwargs: _base.RuleKwargs = None,
    v2: bool = False,
    user_scope: _base.Scope = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for Slack.

    Create an app at https://api.slack.com/apps and add the ``authorized``
    view under "OAuth & Permissions", "Redirect URLs". API paths are relative
    to ``https://slack.com/api/``.

    By default the blueprint uses the legacy endpoints (``oauth/authorize``
    and ``oauth.access``), as Flask-Dance always did, and sends the token in a
    ``token`` field. With ``v2=True`` it uses ``oauth/v2/authorize`` and
    ``oauth.v2.access``: ``scope`` then lists bot scopes and ``user_scope``
    user scopes. The stored token is the bot token, or the user token when
    only user scopes were asked for; the whole answer, with ``authed_user``,
    is kept in the token dict. The token goes in the ``Authorization`` header,
    and tokens are refreshed automatically when token rotation is on.

    :param scope: The scopes to ask for (bot scopes with ``v2``). Default,
        legacy only: ``["identify", "chat:write:bot"]``.
    :param subdomain: A workspace subdomain: sign in through
        ``https://<subdomain>.slack.com`` instead of ``https://slack.com``.
    :param v2: Use Slack's current OAuth v2 endpoints.
    :param user_scope: With ``v2``, the user scopes to ask for. At least one
        of ``scope`` and ``user_scope`` is needed.
    """
    host = f"https://{subdomain}.slack.com/" if subdomain else "https://slack.com/"
    setup: tuple[_base.SessionSetup, ...]
    if v2:
        if not scope and not user_scope:
            raise ValueError("With 'v2=True', pass 'scope', 'user_scope' or both.")
        authorization_url = host + "oauth/v2/authorize"
        token_url = "https://slack.com/api/oauth.v2.access"
        scope = _comma_list(scope)
        user_scopes = _comma_list(user_scope)
        params = {"user_scope": user_scopes} if user_scopes else {}
        setup = (_v2_token_responses,)
        refresh_url: str | None = token_url
    else:
        if user_scope:
            raise ValueError("'user_scope' needs 'v2=True'.")
        authorization_url = host + "oauth/authorize"
        token_url = "https://slack.com/api/oauth.access"
        scope = scope or _LEGACY_DEFAULT_SCOPE
        params = {}
        setup = (_legacy_token_placement,)
        refresh_url = None
    return _base.oauth2_blueprint(
        "slack",
        __name__,
        locals(),
        blueprint_class=SlackBlueprint,
        session_setup=setup,
        base_url="https://slack.com/api/",
        authorization_url=authorization_url,
        authorization_url_params=params,
        token_url=token_url,
        auto_refresh_url=refresh_url,
    )


#: The session of the current request, for the ``slack`` blueprint.
slack: OAuth2Session = _base.session_proxy("slack")  # type: ignore[assignment]
