"""Token storage in Flask's session."""

from __future__ import annotations

import typing as t

import flask

from . import BaseStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from ..._typing import TokenDict
    from ..base import BaseOAuthConsumerBlueprint


class SessionStorage(BaseStorage):
    """Keeps the token in :data:`flask.session`, so each browser has its own.

    This is the default storage of every blueprint. With Flask's default
    session the token, refresh token included, travels in a cookie that is
    signed but **not encrypted**, and that cookie holds about 4 KB. Use a
    server-side session or another storage for tokens that must stay secret
    or are large (``id_token``).
    """

    def __init__(self, key: str = "{bp.name}_oauth_token") -> None:
        """
        :param key: The session key. ``{bp}`` is replaced with the blueprint
            through :meth:`str.format`, so the default gives each blueprint
            its own key, such as ``"github_oauth_token"``.
        """
        #: The session key template.
        self.key = key

    def _key(self, blueprint: BaseOAuthConsumerBlueprint) -> str:
        return self.key.format(bp=blueprint)

    def get(self, blueprint: BaseOAuthConsumerBlueprint) -> TokenDict | None:
        """Return the token in the session, or ``None``.

        :param blueprint: The blueprint whose token is wanted.
        """
        token: TokenDict | None = flask.session.get(self._key(blueprint))
        return token

    def set(self, blueprint: BaseOAuthConsumerBlueprint, token: TokenDict) -> None:
        """Put ``token`` in the session.

        :param blueprint: The blueprint the token belongs to.
        :param token: The token.
        """
        flask.session[self._key(blueprint)] = token

    def delete(self, blueprint: BaseOAuthConsumerBlueprint) -> None:
        """Remove the token from the session; do nothing when there is none.

        :param blueprint: The blueprint whose token goes.
        """
        flask.session.pop(self._key(blueprint), None)
