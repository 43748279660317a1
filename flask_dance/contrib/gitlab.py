"""GitLab, on gitlab.com or self-managed:
https://docs.gitlab.com/ee/api/oauth2.html"""

from __future__ import annotations

import typing as t

import requests

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"


class _NoVerifyMixin(requests.Session):
    """Turns TLS certificate verification off for every request of a
    session, whatever the environment says."""

    def merge_environment_settings(
        self, url: t.Any, proxies: t.Any, stream: t.Any, verify: t.Any, cert: t.Any
    ) -> t.Any:
        """Merge the environment's settings, then turn verification off."""
        # requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE override
        # `session.verify = False`; decide after the environment was merged.
        settings = super().merge_environment_settings(
            url, proxies, stream, verify, cert
        )
        settings["verify"] = False
        return settings


class NoVerifyOAuth2Session(_NoVerifyMixin, OAuth2Session):
    """A session that never verifies TLS certificates, for a GitLab server
    with a self-signed certificate. Neither ``session.verify`` nor the
    ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` environment variables turn
    verification back on."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.verify: bool = False


def _no_verify(session_class: type[OAuth2Session]) -> type[OAuth2Session]:
    if issubclass(session_class, _NoVerifyMixin):
        return session_class
    return type(
        f"NoVerify{session_class.__name__}", (_NoVerifyMixin, session_class), {}
    )


@_base.preset_docs("gitlab")
def make_gitlab_blueprint(
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
    hostname: str = "gitlab.com",
    verify_tls_certificates: bool = True,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for signing in with GitLab.

    Add an application under "Applications" in the user, group or instance
    settings (on gitlab.com: https://gitlab.com/-/user_settings/applications)
    with the ``authorized`` view as its redirect URI. API paths are relative to
    ``https://<hostname>/api/v4/``.

    :param hostname: The GitLab server, for a self-managed one.
    :param verify_tls_certificates: ``False`` turns TLS certificate
        verification off for every request to the server, token requests
        included, even when ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` is
        set. Only for test servers with self-signed certificates. A custom
        ``session_class`` is extended to do the same.
    """
    if not verify_tls_certificates:
        session_class = _no_verify(session_class or NoVerifyOAuth2Session)
    return _base.oauth2_blueprint(
        "gitlab",
        __name__,
        locals(),
        hostname=hostname,
        base_url=f"https://{hostname}/api/v4/",
        authorization_url="oauth/authorize",
        token_url="oauth/token",
        token_url_params={"verify": verify_tls_certificates},
    )


#: The session of the current request, for the ``gitlab`` blueprint.
gitlab: OAuth2Session = _base.session_proxy("gitlab")  # type: ignore[assignment]
