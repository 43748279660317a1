"""DigitalOcean: https://docs.digitalocean.com/reference/api/oauth/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("digitalocean")
def make_digitalocean_blueprint(
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
    """Make a blueprint for signing in with DigitalOcean.

    Register an OAuth application at
    https://cloud.digitalocean.com/account/api/applications with the
    ``authorized`` view as its callback URL. The base URL is the OAuth host,
    ``https://cloud.digitalocean.com/v1/oauth/``; call the API with absolute
    URLs such as ``https://api.digitalocean.com/v2/account``.

    :param scope: ``"read"``, ``"read write"``, or a list. Commas in a string
        are turned into spaces.
    """
    if isinstance(scope, str):
        scope = scope.replace(",", " ")
    return _base.oauth2_blueprint(
        "digitalocean",
        __name__,
        locals(),
        base_url="https://cloud.digitalocean.com/v1/oauth",
        authorization_url="https://cloud.digitalocean.com/v1/oauth/authorize",
        token_url="https://cloud.digitalocean.com/v1/oauth/token",
    )


#: The session of the current request, for the ``digitalocean`` blueprint.
digitalocean: OAuth2Session = _base.session_proxy("digitalocean")  # type: ignore[assignment]
