"""Where consumer blueprints keep their OAuth tokens."""

from __future__ import annotations

import typing as t
from abc import ABC
from abc import abstractmethod

if t.TYPE_CHECKING:  # pragma: no cover
    from ..._typing import AnyBlueprint
    from ..._typing import TokenDict


class BaseStorage(ABC):
    """The interface between a blueprint and the place its tokens live.

    A blueprint calls its storage whenever :attr:`blueprint.token
    <flask_dance.consumer.base.BaseOAuthConsumerBlueprint.token>` is read,
    assigned or deleted. To write a storage, subclass this class and
    implement all three methods:

    -   :meth:`get` returns the token of the current user, or ``None``.
    -   :meth:`set` saves a token for the current user, replacing any older
        one.
    -   :meth:`delete` removes the current user's token. Deleting when nothing
        is stored must do nothing rather than raise.

    "The current user" is whatever the storage decides: the browser session,
    a user found through ``blueprint.config``, or nobody at all. A storage
    instance is shared by every request the app serves, so it must not keep
    per-request state on itself.

    .. warning::

        Several requests of one user may run at the same time, in threads or
        processes: two tabs, a page and its background calls, a token refresh
        racing a logout. :meth:`get` may therefore run while :meth:`set` or
        :meth:`delete` is halfway through, and two :meth:`set` calls for the
        same user may overlap. Make each method safe on its own (a single
        transaction, an atomic write) and do not assume that a token you
        just read is still the stored one.

    The blueprint copies what :meth:`get` returns before it changes the
    ``expires_in`` field, so a storage may hand out the dict it keeps.
    """

    @abstractmethod
    def get(self, blueprint: AnyBlueprint) -> TokenDict | None:
        """Return the stored token, or ``None`` when there is none.

        :param blueprint: The blueprint whose token is wanted.
        """

    @abstractmethod
    def set(self, blueprint: AnyBlueprint, token: TokenDict) -> None:
        """Store ``token``, replacing the token stored before.

        :param blueprint: The blueprint the token belongs to.
        :param token: The token, as the provider returned it.
        """

    @abstractmethod
    def delete(self, blueprint: AnyBlueprint) -> None:
        """Remove the stored token. Do nothing when there is none.

        :param blueprint: The blueprint whose token goes.
        """


class NullStorage(BaseStorage):
    """A storage that keeps nothing: :meth:`get` always returns ``None``."""

    def get(self, blueprint: AnyBlueprint) -> None:
        """Return ``None``.

        :param blueprint: Ignored.
        """
        return None

    def set(self, blueprint: AnyBlueprint, token: TokenDict) -> None:
        """Do nothing.

        :param blueprint: Ignored.
        :param token: Ignored.
        """

    def delete(self, blueprint: AnyBlueprint) -> None:
        """Do nothing.

        :param blueprint: Ignored.
        """


class MemoryStorage(BaseStorage):
    """Keeps one token in memory, on the storage instance.

    Every user, request and thread shares that single token, which makes this
    storage useful in tests and scripts, and wrong for a multi-user app.

    .. code-block:: python

        storage = MemoryStorage({"access_token": "fake-token"})
        blueprint = make_github_blueprint(storage=storage)
    """

    def __init__(
        self, token: TokenDict | None = None, *args: t.Any, **kwargs: t.Any
    ) -> None:
        """
        :param token: The token to start with.
        :param args: Ignored, accepted for compatibility.
        :param kwargs: Ignored, accepted for compatibility.
        """
        #: The stored token, or ``None``.
        self.token = token

    def get(self, blueprint: AnyBlueprint) -> TokenDict | None:
        """Return the stored token itself (not a copy).

        :param blueprint: Ignored.
        """
        return self.token

    def set(self, blueprint: AnyBlueprint, token: TokenDict) -> None:
        """Replace the stored token.

        :param blueprint: Ignored.
        :param token: The new token.
        """
        self.token = token

    def delete(self, blueprint: AnyBlueprint) -> None:
        """Forget the stored token.

        :param blueprint: Ignored.
        """
        self.token = None

    def delete_where(
        self,
        blueprint: AnyBlueprint,
        match: t.Callable[[TokenDict], bool],
    ) -> int:
        """Forget the token if ``match(token)`` is true (back-channel logout).

        :param blueprint: Ignored.
        :param match: Says whether a token goes.
        :return: How many tokens went: 0 or 1.
        """
        if self.token is not None and match(self.token):
            self.token = None
            return 1
        return 0
