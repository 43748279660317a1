"""The decorators of Flask-Dance's first releases that replace the storage
(``token_getter``, ``token_setter``, ``token_deleter``) or run after a login
(``logged_in``), mixed into
:class:`~flask_dance.consumer.base.BaseOAuthConsumerBlueprint`."""

from __future__ import annotations

import typing as t


class TokenHooksMixin:
    """Registers functions that stand in for the token storage, and functions
    to run after a successful login."""

    if t.TYPE_CHECKING:  # pragma: no cover
        logged_in_funcs: list[t.Callable[..., t.Any]]
        _token_getter: t.Callable[[], t.Any] | None
        _token_setter: t.Callable[[t.Any], t.Any] | None
        _token_deleter: t.Callable[[], t.Any] | None

    def token_getter(self, func: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
        """Decorate a function that returns the current user's token; it is
        used instead of the storage. From Flask-Dance's first releases.

        :param func: Called with no arguments.
        """
        self._token_getter = func
        return func

    def token_setter(
        self, func: t.Callable[[t.Any], t.Any]
    ) -> t.Callable[[t.Any], t.Any]:
        """Decorate a function that saves the current user's token; it is used
        instead of the storage.

        :param func: Called with the token.
        """
        self._token_setter = func
        return func

    def token_deleter(self, func: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
        """Decorate a function that deletes the current user's token; it runs
        on ``del blueprint.token``.

        :param func: Called with no arguments.
        """
        self._token_deleter = func
        return func

    def logged_in(self, func: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
        """Decorate a function to run after a successful login, once the token
        is stored. It receives the token. From Flask-Dance's first releases;
        the :data:`oauth_authorized` signal is the current way.

        :param func: Called with the token dict.
        """
        self.logged_in_funcs.append(func)
        return func

    def _run_logged_in_funcs(self, token: t.Any) -> None:
        for func in self.logged_in_funcs:
            func(token)
