"""The HTTP transport a blueprint's sessions share: one connection pool per
provider host, and one TLS context per CA bundle, built once rather than for
each new connection. Its pools report the connections they hand out to
:mod:`~flask_dance.consumer._deadline`, so that a call's deadline can cut them.
"""

from __future__ import annotations

import os
import ssl
import threading
import typing as t

import requests
import requests.adapters
import requests.utils
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

from . import _deadline


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
