"""Patreon: https://docs.patreon.com/#oauth"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("patreon")
def make_patreon_blueprint(
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
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Patreon.

    Register a client at https://www.patreon.com/portal/registration/register-clients
    with the ``authorized`` view among its redirect URIs. API paths are
    relative to ``https://www.patreon.com/api/oauth2/v2/``, such as
    ``identity``. The client credentials go in the body of token requests, and
    tokens are refreshed automatically.

    :param scope: The scopes to ask for. Default: ``["identity"]``; add
        ``"identity[email]"`` for the e-mail address.
    """
    return _base.oauth2_blueprint(
        "patreon",
        __name__,
        locals(),
        base_url="https://www.patreon.com/api/oauth2/v2/",
        authorization_url="https://www.patreon.com/oauth2/authorize",
        token_url="https://www.patreon.com/api/oauth2/token",
        default_scope=["identity"],
        credentials_in_body=True,
        refresh=True,
    )


#: The session of the current request, for the ``patreon`` blueprint.
patreon: OAuth2Session = _base.session_proxy("patreon")  # type: ignore[assignment]
