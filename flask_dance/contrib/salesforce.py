"""Salesforce: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


@_base.preset_docs("salesforce")
def make_salesforce_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    scope: _base.Scope = None,
    reprompt_consent: bool = False,
    hostname: str | None = None,
    is_sandbox: bool = False,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    instance_url: str | None = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with Salesforce.

    Create a connected app (Setup, App Manager, "New Connected App") with
    OAuth settings enabled and the ``authorized`` view as its callback URL.

    The token Salesforce returns names the org's API host in its
    ``instance_url``. Pass that host as ``instance_url`` to make API paths
    such as ``services/data/v60.0/sobjects`` relative to it; otherwise they
    are relative to the login host.

    :param reprompt_consent: Ask the user to approve the app again
        (``prompt=consent``).
    :param hostname: The login host, such as your My Domain
        (``example.my.salesforce.com``). Default: ``login.salesforce.com``, or
        ``test.salesforce.com`` with ``is_sandbox``.
    :param is_sandbox: Sign in to a sandbox org.
    :param instance_url: Your org's API host, such as
        ``https://example.my.salesforce.com``; the base URL of API requests.
    """
    if hostname is None:
        hostname = "test.salesforce.com" if is_sandbox else "login.salesforce.com"
    return _base.oauth2_blueprint(
        "salesforce",
        __name__,
        locals(),
        hostname=hostname,
        base_url=_base.with_slash(instance_url) if instance_url else None,
        authorization_url="services/oauth2/authorize",
        authorization_url_params=_base.given(
            prompt="consent" if reprompt_consent else None
        ),
        token_url="services/oauth2/token",
    )


#: The session of the current request, for the ``salesforce`` blueprint.
salesforce: OAuth2Session = _base.session_proxy("salesforce")  # type: ignore[assignment]
