"""Token storage in Flask's session."""

from __future__ import annotations

import logging
import typing as t

import flask

from .. import _pending
from .._request_local import browser_session
from . import _sealing
from . import BaseStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from ..._typing import AnyBlueprint
    from ..._typing import TokenDict

log: logging.Logger = logging.getLogger(__name__)

#: Above this many bytes, the signed session cookie is near the 4 KB that
#: browsers keep for a cookie (name and attributes included), and
#: :class:`SessionStorage` logs a warning.
COOKIE_SIZE_WARNING = 3500


_NO_REQUEST_MESSAGE = (
    "The {name!r} blueprint keeps the user's token in the Flask session"
    " (SessionStorage), which exists only while a request is handled: outside"
    " one there is no current user. Use the blueprint's session (or the"
    " '{name}' proxy) while handling a request, in tests and scripts inside"
    " 'with app.test_request_context():'; for background jobs, give the"
    " blueprint a storage that needs no request, such as SQLAlchemyStorage."
)


def _request_session(blueprint: AnyBlueprint) -> t.Any:
    """The current request's session, or our own error naming the fix."""
    try:
        return browser_session()
    except RuntimeError as exc:
        if flask.has_request_context():
            raise
        raise RuntimeError(_NO_REQUEST_MESSAGE.format(name=blueprint.name)) from exc


#: The default session key template of :class:`SessionStorage`.
_DEFAULT_KEY = "{bp.name}_oauth_token"


class SessionStorage(BaseStorage):
    """Keeps the token in :data:`flask.session`, so each browser has its own.

    This is the default storage of every blueprint. With Flask's default
    session the token, refresh token included, travels in a cookie that is
    signed but **not encrypted**, and that cookie holds about 4 KB. Use a
    server-side session or another storage for tokens that must stay secret
    or are large (``id_token``).

    When the app's ``FLASK_DANCE_TOKEN_KEYS`` config lists Fernet keys, the
    token is stored encrypted, as ``{"_fd_enc": "..."}``; a plaintext token
    already in a session stays readable and is encrypted on its next write.

    When a token write makes the signed session cookie larger than
    :data:`COOKIE_SIZE_WARNING` bytes, a warning is logged, once per
    process and blueprint: browsers drop cookies above about 4 KB, which
    silently logs the user out.
    """

    def __init__(self, key: str = "{bp.name}_oauth_token") -> None:
        """
        :param key: The session key. ``{bp}`` is replaced with the blueprint
            through :meth:`str.format`, so the default gives each blueprint
            its own key, such as ``"github_oauth_token"``.
        """
        #: The session key template.
        self.key = key
        #: Names of the blueprints whose cookie size was already warned of.
        self._size_warned: set[str] = set()

    def _key(self, blueprint: AnyBlueprint) -> str:
        if self.key == _DEFAULT_KEY:
            return f"{blueprint.name}_oauth_token"  # the same, quicker
        return self.key.format(bp=blueprint)

    def get(self, blueprint: AnyBlueprint) -> TokenDict | None:
        """Return the token in the session, or ``None``.

        :param blueprint: The blueprint whose token is wanted.
        """
        stored = _request_session(blueprint).get(self._key(blueprint))
        if not _sealing.is_sealed(stored):
            return stored  # type: ignore[no-any-return]
        token: TokenDict | None = _sealing.unseal(
            stored, blueprint.name, _sealing.binding_of(blueprint.name)
        )
        return token

    def set(self, blueprint: AnyBlueprint, token: TokenDict) -> None:
        """Put ``token`` in the session.

        :param blueprint: The blueprint the token belongs to.
        :param token: The token.
        """
        _request_session(blueprint)[self._key(blueprint)] = _sealing.seal(
            token, _sealing.binding_of(blueprint.name)
        )
        if blueprint.name not in self._size_warned:
            self._check_cookie_size(blueprint)

    def _check_cookie_size(self, blueprint: AnyBlueprint) -> None:
        session = browser_session()
        if _pending.clearly_below(session, COOKIE_SIZE_WARNING):
            return
        size = _pending.signed_size(session, log)
        if size is None:
            return  # a server-side session, or none that can be saved
        if size <= COOKIE_SIZE_WARNING:
            return
        self._size_warned.add(blueprint.name)
        log.warning(
            "The session cookie grew to %d bytes after storing the %r token,"
            " near the 4 KB browsers keep; a larger one is dropped and the user"
            " is logged out. Keep the token server-side (SQLAlchemyStorage or"
            " a server-side session) or ask for a smaller scope.",
            size,
            blueprint.name,
        )

    def delete(self, blueprint: AnyBlueprint) -> None:
        """Remove the token from the session; do nothing when there is none.

        :param blueprint: The blueprint whose token goes.
        """
        _request_session(blueprint).pop(self._key(blueprint), None)
