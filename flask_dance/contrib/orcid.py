"""ORCID: https://info.orcid.org/documentation/integration-guide/"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("orcid")
def make_orcid_blueprint(
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
    sandbox: bool = False,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with ORCID.

    Register your application's redirect URI (the ``authorized`` view) in the
    developer tools of your ORCID record (https://orcid.org/developer-tools),
    or of a sandbox record (https://sandbox.orcid.org/developer-tools). A
    typical scope is ``"/authenticate"``. API paths are relative to
    ``https://api.orcid.org``.

    :param sandbox: Use the ORCID sandbox (``sandbox.orcid.org``).
    """
    host = "sandbox.orcid.org" if sandbox else "orcid.org"
    return _base.oauth2_blueprint(
        "orcid",
        __name__,
        locals(),
        base_url=f"https://api.{host}",
        authorization_url=f"https://{host}/oauth/authorize",
        token_url=f"https://{host}/oauth/token",
    )


#: The session of the current request, for the ``orcid`` blueprint.
orcid: OAuth2Session = _base.session_proxy("orcid")  # type: ignore[assignment]
