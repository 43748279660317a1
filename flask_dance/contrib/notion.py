"""Notion (public integrations):
https://developers.notion.com/docs/authorization"""

from __future__ import annotations

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

__maintainer__ = "Flask-Dance contributors"

#: The Notion API version sent when none is given.
DEFAULT_NOTION_VERSION = "2022-06-28"


@_base.preset_docs("notion")
def make_notion_blueprint(
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
    notion_version: str = DEFAULT_NOTION_VERSION,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for connecting a Notion workspace.

    Create a public integration at https://www.notion.so/profile/integrations
    and add the ``authorized`` view to its redirect URIs. Notion has no
    scopes (capabilities are set on the integration) and asks for
    ``owner=user``, which the blueprint sends. API paths are relative to
    ``https://api.notion.com/v1/``, such as ``users/me``. The token dict
    also holds ``workspace_id``, ``workspace_name`` and ``bot_id``.

    :param notion_version: The ``Notion-Version`` header of every request.
    """
    return _base.oauth2_blueprint(
        "notion",
        __name__,
        locals(),
        base_url="https://api.notion.com/v1/",
        authorization_url="https://api.notion.com/v1/oauth/authorize",
        authorization_url_params={"owner": "user"},
        token_url="https://api.notion.com/v1/oauth/token",
        session_setup=[_base.set_headers({"Notion-Version": notion_version})],
    )


#: The session of the current request, for the ``notion`` blueprint.
notion: OAuth2Session = _base.session_proxy("notion")  # type: ignore[assignment]
