"""Jira Server and Data Center (OAuth 1.0a, RSA-SHA1):
https://developer.atlassian.com/server/jira/platform/oauth/

For Jira Cloud, use :mod:`flask_dance.contrib.atlassian`.
"""

from __future__ import annotations

import os
import typing as t

from oauthlib.oauth1 import SIGNATURE_RSA

from ..consumer.oauth1 import OAuth1ConsumerBlueprint
from ..consumer.requests import OAuth1Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


class JsonOAuth1Session(OAuth1Session):
    """A session that sends ``Content-Type: application/json`` on every
    request, as Jira's REST API expects."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers["Content-Type"] = "application/json"


@_base.preset_docs("jira")
def make_jira_blueprint(
    base_url: str,
    consumer_key: str | None = None,
    rsa_key: str | None = None,
    *,
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth1Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth1ConsumerBlueprint:
    """Make a blueprint for signing in with a Jira server (OAuth 1.0a).

    In Jira, create an application link ("Incoming authentication") with a
    consumer key and your RSA public key; the callback is the ``authorized``
    view. Requests are signed with RSA-SHA1. API paths are relative to
    ``base_url``.

    :param base_url: The Jira server, with its context path if it has one,
        such as ``https://jira.example.com/jira``.
    :param consumer_key: The consumer key of the application link. Default:
        the ``JIRA_OAUTH_CONSUMER_KEY`` config value.
    :param rsa_key: Your RSA private key (PEM), or the path of a file that
        holds it (read now). Default: the ``JIRA_OAUTH_RSA_KEY`` config value,
        which must be the key itself.
    """
    if rsa_key and os.path.isfile(rsa_key):
        with open(rsa_key, encoding="utf-8") as key_file:
            rsa_key = key_file.read()
    return _base.oauth1_blueprint(
        "jira",
        __name__,
        locals(),
        from_config={
            "client_key": "JIRA_OAUTH_CONSUMER_KEY",
            "rsa_key": "JIRA_OAUTH_RSA_KEY",
        },
        client_key=consumer_key,
        rsa_key=rsa_key,
        signature_method=SIGNATURE_RSA,
        root=_base.with_slash(base_url) + "plugins/servlet/oauth/",
        base_url=base_url,
        request_token_url="request-token",
        access_token_url="access-token",
        authorization_url="authorize",
        session_class=session_class or JsonOAuth1Session,
    )


#: The session of the current request, for the ``jira`` blueprint.
jira: OAuth1Session = _base.session_proxy("jira")  # type: ignore[assignment]
