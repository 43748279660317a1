"""Binding a blueprint to the app's configuration: the values that
:attr:`~.base.BaseOAuthConsumerBlueprint.from_config` names are applied
before the first request, and again only when they, or the mapping, change.
One ``before_request`` function per app does it for all the app's blueprints."""

from __future__ import annotations

import itertools
import logging
import typing as t
from collections.abc import Mapping

from flask import current_app
from flask import has_app_context

from ..utils import getattrd
from ._request_local import app_context as _app_context
from ._sessions import context_state
from ._sessions import forget_request_state
from ._sessions import SessionsMixin
from ._transport import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .signals import oauth_authorized as oauth_authorized
from .signals import oauth_before_login as oauth_before_login
from .signals import oauth_error as oauth_error
from .signals import oauth_refresh_failed as oauth_refresh_failed

if t.TYPE_CHECKING:  # pragma: no cover
    from flask.sansio.app import App

log: logging.Logger = logging.getLogger(__name__)


#: Where an app keeps its :class:`AppHooks`, in ``app.extensions``.
APP_HOOKS_KEY = "flask_dance.hooks"


class ConfigMixin:
    """The blueprint's side of the binding: :attr:`from_config` and applying it."""

    # What load_config last applied: the from_config mapping and the config
    # values it named; while both are unchanged, nothing is done.
    _bound_from: dict[str, str] | None
    _bound_values: tuple[t.Any, ...]
    _session_bindings_cache: tuple[int, tuple[tuple[str, str], ...]]

    def _init_config(self) -> None:
        self.from_config = {}
        self._bound_from = None
        self._bound_values = ()
        self._session_bindings_cache = (-1, ())

    @property
    def from_config(self) -> dict[str, str]:
        """Maps attribute names of this blueprint (dotted paths allowed, such
        as ``"session.client_id"``) to keys of the app's configuration.
        Truthy configuration values are applied whenever they are needed.

        It is a :class:`dict` that notes its changes, so that checking the
        configuration before each request stays cheap; assigning a plain
        :class:`dict` copies it into one.
        """
        return self._from_config

    @from_config.setter
    def from_config(self, value: Mapping[str, str]) -> None:
        self._from_config = _ConfigBinding(value)
        _binding_changed()

    def load_config(self) -> None:
        """Apply the app's configuration values named in :attr:`from_config`.

        Only truthy values are applied. Paths into the session (such as
        ``"session.client_id"``) are applied when the session is built.

        Before each request of an app the blueprint is registered on, the
        values are applied again only when they, or :attr:`from_config`,
        changed since they were last applied.
        """
        if not self.from_config or not has_app_context():
            return
        self._apply_config(current_app.config)

    def _refresh_config(self, config: Mapping[str, t.Any] | None = None) -> None:
        """Apply the configuration unless what was last applied is current.

        :param config: The app's configuration; default the current app's.
        """
        from_config = self.from_config
        if not from_config:
            return
        if config is None:
            app_ctx = _app_context()
            if app_ctx is None:
                return
            config = app_ctx.app.config
        values = tuple(map(config.get, from_config.values()))
        if values != self._bound_values or from_config != self._bound_from:
            self._apply_config(config)

    def _apply_config(self, config: Mapping[str, t.Any]) -> None:
        from_config = dict(self.from_config)
        for local_var, key in from_config.items():
            value = config.get(key)
            if not value or local_var.startswith("session."):
                continue
            if "." in local_var:
                path, attr = local_var.rsplit(".", 1)
                setattr(getattrd(self, path), attr, value)
            else:
                setattr(self, local_var, value)
        self._bound_values = tuple(map(config.get, from_config.values()))
        self._bound_from = from_config
        _Versions.applied = next(_version_counter)

    def _session_bindings(self) -> tuple[tuple[str, str], ...]:
        """The ``session.*`` entries of :attr:`from_config`."""
        version, bindings = self._session_bindings_cache
        if version != _Versions.bindings:
            version = _Versions.bindings
            bindings = tuple(
                (local_var, key)
                for local_var, key in self.from_config.items()
                if local_var.startswith("session.")
            )
            self._session_bindings_cache = (version, bindings)
        return bindings

    def _apply_session_config(self, session: t.Any) -> None:
        bindings = self._session_bindings()
        if not bindings or not has_app_context():
            return
        config = current_app.config
        for local_var, key in bindings:
            value = config.get(key)
            if value:
                path, attr = local_var.rsplit(".", 1)
                target = session if path == "session" else getattrd(session, path[8:])
                setattr(target, attr, value)


# A speed device: the counters below let the per-app check skip comparing
# every blueprint's configuration when nothing changed. Measured A/B in one
# bench/run.py run (the ``unused_presets`` page, ten presets, against the same
# app whose check calls each blueprint's ``_refresh_config``): 108-110 us
# against 112-116 us, a ratio of 0.95-0.96 in two runs. A ``from_config``
# replaced by a plain dict is wrapped again by its setter, so no change goes
# unnoticed; tests/consumer/test_base.py changes it in every way a dict can
# be changed.
class _Versions:
    """Counters that tell the per-app hooks that nothing changed."""

    #: Changes when any blueprint's ``from_config`` changes.
    bindings = 0
    #: Changes when configuration is applied to any blueprint.
    applied = 0


_version_counter = itertools.count(1)


def _binding_changed() -> None:
    _Versions.bindings = next(_version_counter)


class _ConfigBinding(dict[str, str]):
    """A blueprint's ``from_config``: a :class:`dict` that notes each change
    in :attr:`_Versions.bindings`."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        _binding_changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        _binding_changed()

    def __ior__(self, other: t.Any) -> _ConfigBinding:  # type: ignore[override,misc]
        super().__ior__(other)
        _binding_changed()
        return self

    def update(self, *args: t.Any, **kwargs: str) -> None:
        super().update(*args, **kwargs)
        _binding_changed()

    def setdefault(self, key: str, default: str) -> str:
        value = super().setdefault(key, default)
        _binding_changed()
        return value

    def pop(self, key: str, *default: t.Any) -> t.Any:
        value = super().pop(key, *default)
        _binding_changed()
        return value

    def popitem(self) -> tuple[str, str]:
        item = super().popitem()
        _binding_changed()
        return item

    def clear(self) -> None:
        super().clear()
        _binding_changed()


class AppHooks:
    """What runs on every request of an app for all of its Flask-Dance
    blueprints: one ``before_request`` and one ``teardown_request`` function
    per app, however many blueprints are registered, each cheap when the
    request uses none of them.

    :param app: The app.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        #: The distinct blueprints registered on the app.
        self.blueprints: list[ConfigMixin] = []
        #: Those that override :meth:`~.SessionsMixin.teardown_session`.
        self.custom_teardowns: list[SessionsMixin] = []
        #: The config keys all the blueprints read, as of ``bindings_seen``.
        self.config_keys: tuple[str, ...] = ()
        self.bindings_seen = -1
        #: Their values at the last request, when nothing needed applying.
        self.values_seen: tuple[t.Any, ...] | None = None
        self.applied_seen = -1

    @classmethod
    def of(cls, app: App) -> AppHooks:
        """The hooks of ``app``, installed on first use.

        :param app: The app.
        """
        hooks: AppHooks | None = app.extensions.get(APP_HOOKS_KEY)
        if hooks is None:
            hooks = cls(app)
            app.extensions[APP_HOOKS_KEY] = hooks
            app.before_request_funcs.setdefault(None, []).append(hooks.before_request)
        return hooks

    def add(self, blueprint: t.Any) -> None:
        """Serve ``blueprint`` too.

        :param blueprint: A blueprint being registered on the app.
        """
        if any(known is blueprint for known in self.blueprints):
            return
        self.blueprints.append(blueprint)
        self.bindings_seen = -1
        if type(blueprint).teardown_session is not SessionsMixin.teardown_session:
            # Only for these: the sessions of a request need no teardown, as
            # the next request of a shared app context sets them aside.
            if not self.custom_teardowns:
                self.app.teardown_request_funcs.setdefault(None, []).append(
                    self.teardown_request
                )
            self.custom_teardowns.append(blueprint)

    def before_request(self) -> None:
        """Apply configuration that changed since it was last applied.

        When no ``from_config`` changed and no configuration was applied to
        any blueprint since the last request of this app, comparing the
        config values with those of the last request is enough.
        """
        config = self.app.config
        if self.bindings_seen != _Versions.bindings:
            self.bindings_seen = _Versions.bindings
            self.config_keys = tuple(
                key for bp in self.blueprints for key in bp.from_config.values()
            )
            self.values_seen = None
        values = tuple(map(config.get, self.config_keys))
        if values == self.values_seen and self.applied_seen == _Versions.applied:
            return
        applied = _Versions.applied
        for blueprint in self.blueprints:
            blueprint._refresh_config(config)
        if applied == _Versions.applied:
            self.values_seen = values
            self.applied_seen = applied
        else:
            # Applied now (or by another app meanwhile): check once more on
            # the next request, which then takes the short path.
            self.values_seen = None

    def teardown_request(self, exception: BaseException | None = None) -> None:
        """Run the blueprints' own ``teardown_session``, then forget the
        request's sessions. Installed only when a blueprint overrides
        ``teardown_session``.

        :param exception: The exception that ended the request, if any.
        """
        for blueprint in self.custom_teardowns:
            blueprint.teardown_session(exception)
        forget_request_state(context_state())
