"""The HTTP transport a blueprint's sessions share: one connection pool per
provider host, and one TLS context per CA bundle, built once rather than for
each new connection. Its pools report the connections they hand out to
:mod:`~flask_dance.consumer._deadline`, so that a call's deadline can cut them.

It also holds a speed device, :func:`set_up`: the :class:`requests.Session`
part of a provider session, set up without the two connection pools that
``requests.Session()`` builds and a provider session drops at once for the
pools its blueprint shares. Those two pools are most of the cost of a new
session, and a page that calls the provider's API builds one session per
request: in ``bench/run.py`` on 2026-12-05 (2-core VM) the device took
api_tls from 1.10 to 1.03 times a bare :class:`requests.Session`, and api_plain
from 1.12 to 1.04. Nothing of requests is written out here by hand: the
attributes and their values come from one session that requests' own
constructor built (the template), so a requests release that adds, drops or
changes an attribute is followed without a change here. Each new session gets
its own copy of every mutable value. If the template holds a value of a type
this module does not know how to copy, the device stays off and requests'
constructor runs as usual (:func:`set_up` answers ``False``).
"""

from __future__ import annotations

import collections
import os
import ssl
import threading
import typing as t

import requests
import requests.adapters
import requests.cookies
import requests.structures
import requests.utils
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

from . import _deadline

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping


class _WatchedPool(HTTPConnectionPool):
    """A pool whose connections a call's deadline can cut while they are out."""

    def _get_conn(self, timeout: float | None = None) -> t.Any:
        conn = super()._get_conn(timeout)
        _deadline.watch(conn)
        return conn

    def _put_conn(self, conn: t.Any) -> None:
        if conn is not None:
            _deadline.unwatch(conn)
        super()._put_conn(conn)


class _WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    """The same for ``https://``."""


_POOL_CLASSES = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


#: Default timeout, in seconds, for every request to a provider: (connect, read).
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)


class PoolAdapter(requests.adapters.HTTPAdapter):
    """An :class:`~requests.adapters.HTTPAdapter` whose TLS contexts are
    shared by its connections.

    For each new TLS connection, urllib3 otherwise builds a context and loads
    the whole CA bundle into it, which costs more than the handshake itself.
    Here the context for a given ``verify`` (the default bundle, or a bundle
    file or directory) is built once and reused by every connection of the
    pool. Verification is unchanged: the certificate and the host name are
    checked on every handshake. Requests with a client certificate, or with
    verification off, go the usual way.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._tls_contexts: dict[str, ssl.SSLContext] = {}
        self._tls_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Build the pool manager, with pools whose connections a deadline
        can cut.

        :param args: Passed to :class:`~requests.adapters.HTTPAdapter`.
        :param kwargs: Passed to :class:`~requests.adapters.HTTPAdapter`.
        """
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOL_CLASSES)

    def _tls_context(self, verify: t.Any) -> ssl.SSLContext | None:
        """The shared context that verifies against ``verify``, or ``None``
        when there is none to share."""
        if verify is True:
            location = requests.utils.DEFAULT_CA_BUNDLE_PATH
        elif isinstance(verify, str) and verify:
            location = verify
        else:
            return None
        context = self._tls_contexts.get(location)
        if context is not None:
            return context
        if not os.path.exists(location):
            return None  # requests raises its own error about the path
        with self._tls_lock:
            context = self._tls_contexts.get(location)
            if context is None:
                context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
                if os.path.isdir(location):
                    context.load_verify_locations(capath=location)
                else:
                    context.load_verify_locations(cafile=location)
                self._tls_contexts[location] = context
        return context

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: t.Any,
        cert: t.Any = None,
    ) -> tuple[t.Any, t.Any]:
        """Select the pool with the shared TLS context of ``verify``.

        :param request: The request about to be sent.
        :param verify: ``True``, a CA bundle path, or ``False``.
        :param cert: The client certificate, if any.
        """
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if host_params.get("scheme") == "https" and cert is None:
            context = self._tls_context(verify)
            if context is not None:
                pool_kwargs.pop("ca_certs", None)
                pool_kwargs.pop("ca_cert_dir", None)
                pool_kwargs["ssl_context"] = context
        return host_params, pool_kwargs

    def cert_verify(
        self, conn: HTTPConnectionPool, url: str, verify: t.Any, cert: t.Any
    ) -> None:
        """As requests does, except that a pool with a shared context is not
        told to load the CA bundle again for each new connection.

        :param conn: The connection pool.
        :param url: The request's URL.
        :param verify: ``True``, a CA bundle path, or ``False``.
        :param cert: The client certificate, if any.
        """
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        conn_kw: dict[str, t.Any] = getattr(conn, "conn_kw", None) or {}
        context = conn_kw.get("ssl_context")
        if context is not None and any(
            context is shared for shared in self._tls_contexts.values()
        ):
            pool: t.Any = conn
            pool.ca_certs = None
            pool.ca_cert_dir = None


# -- sessions without throw-away pools (the speed device) -----------------------

_Copier = t.Callable[[t.Any], t.Any]
_Plan = tuple[tuple[str, _Copier, t.Any], ...]

_IMMUTABLE = (bool, int, float, str, bytes, frozenset)


def _same(value: t.Any) -> t.Any:
    return value


def _shallow_dict(value: dict[t.Any, t.Any]) -> dict[t.Any, t.Any]:
    return dict(value)


def _dict_of_lists(value: dict[t.Any, list[t.Any]]) -> dict[t.Any, list[t.Any]]:
    return {key: list(items) for key, items in value.items()}


def _headers(
    value: requests.structures.CaseInsensitiveDict[t.Any],
) -> requests.structures.CaseInsensitiveDict[t.Any]:
    return value.copy()


def _empty_cookie_jar(_: t.Any) -> requests.cookies.RequestsCookieJar:
    return requests.cookies.RequestsCookieJar()


def _immutable(value: t.Any) -> bool:
    return value is None or isinstance(value, _IMMUTABLE)


def copier_for(value: t.Any) -> _Copier | None:
    """How to give a new session its own copy of ``value``, or ``None`` when
    this module does not know how.

    :param value: An attribute of a freshly built :class:`requests.Session`.
    """
    if _immutable(value):
        return _same
    if type(value) is dict:
        if all(_immutable(item) for item in value.values()):
            return _shallow_dict
        if all(
            type(item) is list and all(_immutable(entry) for entry in item)
            for item in value.values()
        ):
            return _dict_of_lists
        return None
    if type(value) is requests.structures.CaseInsensitiveDict and all(
        _immutable(item) for item in value.values()
    ):
        return _headers
    if type(value) is requests.cookies.RequestsCookieJar and not len(value):
        return _empty_cookie_jar
    return None


def make_plan(template: requests.Session) -> _Plan | None:
    """What :func:`set_up` assigns: each attribute of ``template`` but its
    adapters, with how to copy its value; ``None`` if a value cannot be
    copied safely.

    :param template: A session built by :class:`requests.Session` itself.
    """
    plan: list[tuple[str, _Copier, t.Any]] = []
    for name, value in vars(template).items():
        if name == "adapters":
            continue
        copier = copier_for(value)
        if copier is None:
            return None
        plan.append((name, copier, value))
    return tuple(plan)


_plan: _Plan | None = None
_planned = False
_plan_lock = threading.Lock()


def _current_plan() -> _Plan | None:
    global _plan, _planned
    if not _planned:
        with _plan_lock:
            if not _planned:
                template = requests.Session()
                _plan = make_plan(template)
                template.close()
                _planned = True
    return _plan


def set_up(
    session: requests.Session, adapters: Mapping[str, requests.adapters.BaseAdapter]
) -> bool:
    """Give ``session`` what ``requests.Session()`` would, except that its
    adapters are ``adapters``. Answers ``False``, and changes nothing, when
    the device is off: the caller then runs requests' own constructor.

    :param session: A session whose :class:`requests.Session` part is not
        set up yet.
    :param adapters: The transport adapters, by URL prefix, in mount order.
    """
    plan = _current_plan()
    if plan is None:
        return False
    for name, copier, value in plan:
        setattr(session, name, copier(value))
    session.adapters = collections.OrderedDict(adapters)
    return True
