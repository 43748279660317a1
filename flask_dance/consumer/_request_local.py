"""Values an app sets on a shared object for the current request only.

Apps pick the user whose token a storage reads by setting
``blueprint.config["user"]`` (or ``storage.user``) in a ``before_request``
hook. The blueprint and the storage are shared by every thread of the app, so
such a value must not be kept on them: set inside an app context, it lives in
that context's :data:`flask.g` and is gone with it; set outside any context
(at setup time), it is the default every context starts from.

Code that runs on every request reads the current request context or app
context once through Flask's public proxies (:data:`flask.globals.request_ctx`,
:data:`flask.globals.app_ctx`), with :func:`current_request` and
:func:`app_context`, then works with the object rather than going through a
proxy for each attribute.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import flask
import flask.globals


def current_request() -> t.Any:
    """The current request context, or ``None`` outside a request."""
    if not flask.has_request_context():
        return None
    ctx: t.Any = flask.globals.request_ctx
    return ctx._get_current_object()


def app_context() -> t.Any:
    """The current app context, or ``None`` outside one."""
    if not flask.has_app_context():
        return None
    ctx: t.Any = flask.globals.app_ctx
    return ctx._get_current_object()


def browser_session() -> t.Any:
    """The current request's :data:`flask.session` object itself, for a
    function that reads or writes it several times.

    :raises RuntimeError: outside a request, as the proxy does.
    """
    ctx = current_request()
    if ctx is not None and ctx.session is not None:
        return ctx.session
    proxy: t.Any = flask.session
    return proxy._get_current_object()


#: The attribute of :data:`flask.g` holding the values set in its context.
_ATTR = "_flask_dance_local"


def _local_values(create: bool) -> dict[t.Any, t.Any] | None:
    """The values set in the current app context, or ``None`` outside one
    (or, unless ``create``, when none were set)."""
    app_ctx = app_context()
    if app_ctx is None:
        return None
    state = vars(app_ctx.g)
    values: dict[t.Any, t.Any] | None = state.get(_ATTR)
    if values is None and create:
        values = state[_ATTR] = {}
    return values


class RequestConfig(cabc.MutableMapping[str, t.Any]):
    """A blueprint's ``config``: a mapping whose changes made inside an app
    context (a request, say) stay in that context.

    Outside any app context it reads and writes the blueprint's defaults.
    Inside one, it reads the defaults until the first change, which copies
    them for the context; from then on the context reads and changes its
    copy, and other contexts never see it.

    :param on_update: Called after each change.
    """

    __slots__ = ("_defaults", "_key", "_on_update")

    def __init__(self, on_update: t.Callable[[], None] | None = None) -> None:
        self._defaults: dict[str, t.Any] = {}
        self._on_update = on_update
        self._key = ("config", id(self))

    def _current(self) -> dict[str, t.Any]:
        app_ctx = app_context()
        if app_ctx is not None:
            local = vars(app_ctx.g).get(_ATTR)
            if local:
                values: dict[str, t.Any] | None = local.get(self._key)
                if values is not None:
                    return values
        return self._defaults

    def _writable(self) -> dict[str, t.Any]:
        local = _local_values(create=True)
        if local is None:
            return self._defaults
        values: dict[str, t.Any] | None = local.get(self._key)
        if values is None:
            values = local[self._key] = dict(self._defaults)
        return values

    def _changed(self) -> None:
        if self._on_update is not None:
            self._on_update()

    def __getitem__(self, key: str) -> t.Any:
        return self._current()[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """The value of ``key``, or ``default``.

        :param key: The key.
        :param default: Returned when ``key`` is not set.
        """
        return self._current().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def __setitem__(self, key: str, value: t.Any) -> None:
        self._writable()[key] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._writable()[key]
        self._changed()

    def clear(self) -> None:
        """Remove every key (in the current context only, inside one)."""
        self._writable().clear()
        self._changed()

    def copy(self) -> dict[str, t.Any]:
        """A :class:`dict` of the current values."""
        return dict(self._current())

    def replace(self, values: cabc.Mapping[str, t.Any]) -> None:
        """Make ``values`` the current values, in one change.

        :param values: The new values.
        """
        current = self._writable()
        current.clear()
        current.update(values)
        self._changed()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._current()!r})"


class RequestLocal:
    """An attribute whose assignment inside an app context lasts for that
    context only (see the module docstring); assigned outside any, or with
    :meth:`set_default`, it is the default of every context.

    With ``during_request``, only an assignment during a request is kept
    for the request; one in an app context outside a request (set-up code in
    ``with app.app_context():``) sets the default.
    """

    def __init__(self, *, during_request: bool = False) -> None:
        self._during_request = during_request
        self.name = ""

    def __set_name__(self, owner: type[t.Any], name: str) -> None:
        self.name = name

    @t.overload
    def __get__(
        self, obj: None, objtype: type[t.Any] | None = None
    ) -> RequestLocal: ...

    @t.overload
    def __get__(self, obj: object, objtype: type[t.Any] | None = None) -> t.Any: ...

    def __get__(self, obj: object, objtype: type[t.Any] | None = None) -> t.Any:
        if obj is None:
            return self
        local = _local_values(create=False)
        if local:
            key = (id(obj), self.name)
            if key in local:
                return local[key]
        try:
            return vars(obj)[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, obj: object, value: t.Any) -> None:
        if self._during_request and current_request() is None:
            local = None
        else:
            local = _local_values(create=True)
        if local is None:
            self.set_default(obj, value)
        else:
            local[(id(obj), self.name)] = value

    def __delete__(self, obj: object) -> None:
        local = _local_values(create=False)
        key = (id(obj), self.name)
        if local and key in local:
            del local[key]
            return
        try:
            del vars(obj)[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def set_default(self, obj: object, value: t.Any) -> None:
        """Set the value every context of ``obj`` starts from.

        :param obj: The object.
        :param value: The value.
        """
        vars(obj)[self.name] = value
