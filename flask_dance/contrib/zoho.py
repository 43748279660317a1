"""Zoho: https://www.zoho.com/accounts/protocol/oauth.html"""

from __future__ import annotations

import typing as t

from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749 import tokens
from oauthlib.oauth2.rfc6749.clients.base import BODY
from oauthlib.oauth2.rfc6749.clients.base import URI_QUERY

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

#: Zoho's data centres: the accounts server and the API domain of each, by
#: the ``region`` name :func:`make_zoho_blueprint` accepts.
DATA_CENTRES: dict[str, tuple[str, str]] = {
    "com": ("accounts.zoho.com", "www.zohoapis.com"),
    "us": ("accounts.zoho.com", "www.zohoapis.com"),
    "eu": ("accounts.zoho.eu", "www.zohoapis.eu"),
    "in": ("accounts.zoho.in", "www.zohoapis.in"),
    "au": ("accounts.zoho.com.au", "www.zohoapis.com.au"),
    "jp": ("accounts.zoho.jp", "www.zohoapis.jp"),
    "ca": ("accounts.zohocloud.ca", "www.zohoapis.ca"),
    "sa": ("accounts.zoho.sa", "www.zohoapis.sa"),
    "uk": ("accounts.zoho.uk", "www.zohoapis.uk"),
    "cn": ("accounts.zoho.com.cn", "www.zohoapis.com.cn"),
}

_DEFAULT_SCOPE = ["ZohoCRM.users.all"]


class ZohoWebClient(WebApplicationClient):
    """An oauthlib client that sends the token as
    ``Authorization: Zoho-oauthtoken <token>``, the scheme Zoho's APIs use,
    whatever token type the token names."""

    def __init__(
        self,
        client_id: str | None,
        token_type: str = "Zoho-oauthtoken",
        **kwargs: t.Any,
    ) -> None:
        """
        :param client_id: The client ID.
        :param token_type: The token type to start with.
        :param kwargs: Passed to :class:`~oauthlib.oauth2.WebApplicationClient`.
        """
        super().__init__(client_id, token_type=token_type, **kwargs)  # type: ignore[arg-type]

    @property
    def token_types(self) -> dict[str, t.Callable[..., t.Any]]:  # type: ignore[override]
        """The token types this client sends, all with Zoho's scheme."""
        return {"Bearer": self._add_zoho_token, "Zoho-oauthtoken": self._add_zoho_token}

    def _add_zoho_token(
        self,
        uri: str,
        http_method: str = "GET",
        body: str | None = None,
        headers: dict[str, str] | None = None,
        token_placement: str | None = None,
    ) -> tuple[str, dict[str, str] | None, str | None]:
        token = str(self.access_token)
        if token_placement == URI_QUERY:
            uri = tokens.prepare_bearer_uri(token, uri)
        elif token_placement == BODY:
            body = tokens.prepare_bearer_body(token, body or "")
        else:
            headers = dict(headers or {})
            headers["Authorization"] = f"Zoho-oauthtoken {token}"
        return uri, headers, body


def _zoho_client(blueprint: OAuth2ConsumerBlueprint, session: OAuth2Session) -> None:
    # A client of its own for each session (oauthlib clients hold the token),
    # made with the client ID in effect, which may come from the config.
    target = t.cast(t.Any, session)
    if not isinstance(target._client, ZohoWebClient):
        target._client = ZohoWebClient(session.client_id)


@_base.preset_docs("zoho")
def make_zoho_blueprint(
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
    offline: bool = False,
    reprompt_consent: bool = False,
    rule_kwargs: _base.RuleKwargs = None,
    region: str = "com",
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Zoho.

    Register a "Server-based Application" at https://api-console.zoho.com/
    (or the console of your data centre, such as ``api-console.zoho.eu``) with
    the ``authorized`` view as its redirect URI. API paths are relative to the
    data centre's API domain, such as ``https://www.zohoapis.com/``. The token
    goes in an ``Authorization: Zoho-oauthtoken <token>`` header. Tokens are
    not refreshed automatically.

    :param scope: The scopes to ask for. Default: ``["ZohoCRM.users.all"]``.
    :param offline: Ask for a refresh token (``access_type=offline``);
        otherwise ``access_type=online`` is sent.
    :param reprompt_consent: Show the consent screen again
        (``prompt=consent``).
    :param region: The data centre of your users' accounts: ``"com"`` (or
        ``"us"``), ``"eu"``, ``"in"``, ``"au"``, ``"jp"``, ``"ca"``, ``"sa"``,
        ``"uk"`` or ``"cn"``. See :data:`DATA_CENTRES`.
    """
    try:
        accounts, api = DATA_CENTRES[region]
    except KeyError:
        known = ", ".join(repr(name) for name in DATA_CENTRES)
        raise ValueError(
            f"Unknown Zoho region {region!r}; use one of {known}."
        ) from None
    return _base.oauth2_blueprint(
        "zoho",
        __name__,
        locals(),
        root=f"https://{accounts}/oauth/v2/",
        base_url=f"https://{api}/",
        authorization_url="auth",
        authorization_url_params=_base.given(
            access_type="offline" if offline else "online",
            prompt="consent" if reprompt_consent else None,
        ),
        token_url="token",
        default_scope=_DEFAULT_SCOPE,
        session_setup=[_zoho_client],
    )


#: The session of the current request, for the ``zoho`` blueprint.
zoho: OAuth2Session = _base.session_proxy("zoho")  # type: ignore[assignment]
