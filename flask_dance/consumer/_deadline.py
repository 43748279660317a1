"""An overall deadline for one call to a provider.

A read timeout bounds each wait for data, not the whole answer: a provider
that sends one byte just before every timeout holds the request as long as
it likes. :func:`deadline` bounds the whole call instead. The connections the
call takes from a pool are watched (the pools of
:class:`~flask_dance.consumer._transport.PoolAdapter` report them through
:func:`watch` and :func:`unwatch`); when the deadline passes, one shared
background thread shuts their sockets down, which ends any read or write in
progress with an error. A connection given back to its pool is no longer
watched, so a later call on it is never cut.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

_ATTR = "_flask_dance_deadline"


class Call:
    """One call under a deadline: when it ends, and what it holds."""

    __slots__ = ("conns", "done", "ends_at", "expired", "lock")

    def __init__(self, ends_at: float) -> None:
        #: When the call must be over, on the :func:`time.monotonic` clock.
        self.ends_at = ends_at
        #: Whether the deadline passed while the call was running.
        self.expired = False
        #: Whether the call is over.
        self.done = False
        #: The connections the call took and has not given back.
        self.conns: set[t.Any] = set()
        self.lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it passed)."""
        return self.ends_at - time.monotonic()

    def expire(self) -> None:
        """Shut down the sockets of the connections the call holds."""
        with self.lock:
            if self.done:
                return
            self.expired = True
            conns = list(self.conns)
            for conn in conns:
                sock = getattr(conn, "sock", None)
                if sock is not None:
                    _shut_down(sock)


def _shut_down(sock: t.Any) -> None:
    """End every read and write in progress on ``sock``."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        if isinstance(sock, socket.socket):
            # the plain socket's shutdown: a TLS socket's own would drop its
            # TLS state under a reading thread
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        else:  # a wrapper, such as pyOpenSSL's
            sock.shutdown(socket.SHUT_RDWR)


_current: contextvars.ContextVar[Call | None] = contextvars.ContextVar(
    "flask_dance_deadline", default=None
)


class _Watchdog:
    """The thread that expires calls whose deadline passed; started on
    first use, and again in a forked child."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Call]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._pid = -1

    def add(self, call: Call) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._heap = [e for e in self._heap if not e[2].done]
                thread = threading.Thread(
                    target=self._run, name="flask-dance-deadline", daemon=True
                )
                thread.start()
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (call.ends_at, next(self._order), call))
            if earliest is None or call.ends_at < earliest:
                self._cond.notify()

    def _run(self) -> None:
        pid = os.getpid()
        while True:
            with self._cond:
                if self._pid != pid:
                    return  # (a stale thread: cannot happen after a fork)
                if not self._heap:
                    self._cond.wait()
                    continue
                ends_at, _, call = self._heap[0]
                wait = ends_at - time.monotonic()
                if wait > 0 and not call.done:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not call.done:
                call.expire()


_watchdog = _Watchdog()


def seconds_for(timeout: t.Any) -> float | None:
    """The overall deadline, in seconds, that a :mod:`requests` timeout
    allows: the connect and the read timeout added up (a single number
    counts for both), or ``None`` when either part is ``None``.

    :param timeout: ``None``, a number, or a ``(connect, read)`` pair.
    """
    if timeout is None:
        return None
    if isinstance(timeout, (tuple, list)):
        if len(timeout) != 2 or None in timeout:
            return None
        return float(timeout[0]) + float(timeout[1])
    return 2 * float(timeout)


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[Call | None]:
    """Bound the calls made inside the block to ``seconds`` in all.

    :param seconds: The time allowed; ``None`` for no deadline.
    :return: The :class:`Call` (``None`` without a deadline), whose
        :attr:`Call.expired` tells afterwards whether it was cut.
    """
    if seconds is None:
        yield None
        return
    call = Call(time.monotonic() + seconds)
    token = _current.set(call)
    _watchdog.add(call)
    try:
        yield call
    finally:
        _current.reset(token)
        with call.lock:
            call.done = True
            for conn in call.conns:
                with contextlib.suppress(AttributeError):
                    delattr(conn, _ATTR)
            call.conns.clear()


def watch(conn: t.Any) -> None:
    """Note that the current call took ``conn`` from a pool.

    :param conn: A :mod:`urllib3` connection.
    """
    call = _current.get()
    if call is None:
        return
    with call.lock:
        if not call.done:
            call.conns.add(conn)
            setattr(conn, _ATTR, call)


def unwatch(conn: t.Any) -> None:
    """Note that ``conn`` goes back to its pool: it is no longer cut.

    :param conn: A :mod:`urllib3` connection.
    """
    call: Call | None = getattr(conn, _ATTR, None)
    if call is None:
        return
    with call.lock:
        call.conns.discard(conn)
        with contextlib.suppress(AttributeError):
            delattr(conn, _ATTR)


# -- which calls are token-side ------------------------------------------------

#: What the current token-side call expects back: ``"token"`` for an OAuth 2
#: token answer, ``"oauth1"`` for an OAuth 1 one, ``"other"`` for anything
#: else (revocation), or ``None`` outside such a call.
_kind: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flask_dance_token_endpoint", default=None
)


@contextlib.contextmanager
def token_endpoint(kind: str = "other") -> Iterator[None]:
    """Send the provider-session requests made in the block as token-side
    calls: bounded, with no redirect followed, and the answer checked.

    :param kind: ``"token"``, ``"oauth1"`` or ``"other"``; see
        :func:`flask_dance.consumer._bounded.check`.
    """
    reset = _kind.set(kind)
    try:
        yield
    finally:
        _kind.reset(reset)


def token_endpoint_kind() -> str | None:
    """What the current token-side call expects, or ``None`` outside one."""
    return _kind.get()
