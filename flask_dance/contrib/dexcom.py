"""Dexcom (continuous glucose monitoring data):
https://developer.dexcom.com/docs/dexcomv3/authentication/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

#: The production API, in the United States.
PRODUCTION_URL = "https://api.dexcom.com/"
#: The sandbox API, with simulated users and data.
SANDBOX_URL = "https://sandbox-api.dexcom.com/"


@_base.preset_docs("dexcom")
def make_dexcom_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    base_url: str = PRODUCTION_URL,
    scope: _base.Scope = "offline_access",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    sandbox: bool = False,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for reading a user's Dexcom data.

    Register an app at https://developer.dexcom.com/ with the ``authorized``
    view as its redirect URI. Tokens are refreshed automatically. The login
    and token endpoints live on the same host as ``base_url``, so a regional
    API (``https://api.dexcom.eu/``, ``https://api.dexcom.jp/``) or the sandbox
    works for the whole dance.

    :param base_url: The API host. Default: the production API in the
        United States.
    :param scope: The scopes to ask for. Default: ``"offline_access"``.
    :param sandbox: Use the sandbox API (``https://sandbox-api.dexcom.com/``).
    """
    if sandbox:
        if base_url != PRODUCTION_URL:
            raise ValueError("Pass either 'sandbox=True' or 'base_url', not both.")
        base_url = SANDBOX_URL
    return _base.oauth2_blueprint(
        "dexcom",
        __name__,
        locals(),
        root=base_url,
        authorization_url="v2/oauth2/login",
        token_url="v2/oauth2/token",
        refresh=True,
    )


#: The session of the current request, for the ``dexcom`` blueprint.
dexcom: OAuth2Session = _base.session_proxy("dexcom")  # type: ignore[assignment]
