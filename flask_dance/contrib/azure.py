"""Microsoft identity platform (Entra ID, formerly Azure AD; Microsoft Graph):
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

_DEFAULT_SCOPE = ["openid", "email", "profile", "User.Read"]


@_base.preset_docs("azure")
def make_azure_blueprint(
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
    tenant: str = "common",
    prompt: str | None = None,
    domain_hint: str | None = None,
    login_hint: str | None = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with a Microsoft account.

    Register an application at https://entra.microsoft.com/ ("App
    registrations") with a "Web" redirect URI pointing to the ``authorized``
    view. API paths are relative to ``https://graph.microsoft.com``. Tokens are
    refreshed automatically when ``offline_access`` is among the scopes.

    :param scope: The scopes to ask for. Default:
        ``["openid", "email", "profile", "User.Read"]``.
    :param tenant: ``"common"``, ``"organizations"``, ``"consumers"``, or a
        tenant's ID or domain name.
    :param prompt: Sent as ``prompt`` when given, such as ``"select_account"``.
    :param domain_hint: Sent as ``domain_hint`` when given.
    :param login_hint: Sent as ``login_hint`` when given.
    """
    return _base.oauth2_blueprint(
        "azure",
        __name__,
        locals(),
        root=f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/",
        base_url="https://graph.microsoft.com",
        authorization_url="authorize",
        authorization_url_params=_base.given(
            login_hint=login_hint or None,
            domain_hint=domain_hint or None,
            prompt=prompt or None,
        ),
        token_url="token",
        default_scope=_DEFAULT_SCOPE,
        refresh="offline_access" in _base.scope_list(scope),
    )


#: The session of the current request, for the ``azure`` blueprint.
azure: OAuth2Session = _base.session_proxy("azure")  # type: ignore[assignment]
