"""Stopping the command-line servers on SIGINT and SIGTERM.

A program started in the background of a non-interactive shell inherits
SIGINT as ignored, and Python then installs no ``KeyboardInterrupt`` handler:
Ctrl+C, ``kill -INT`` and ``kill`` (SIGTERM) would leave the server running.
:class:`StopSignals` installs its own handlers for both signals, so
``python -m flask_dance.demo`` and ``python -m flask_dance.testing`` stop
cleanly however they were started.
"""

from __future__ import annotations

import signal
import threading
import time
import types
import typing as t

#: The signals that stop a command-line server.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While entered, SIGINT and SIGTERM stop :meth:`wait` instead of
    whatever their handlers were; the old handlers come back on exit.

    Enter it before announcing that the server is ready, so that a signal
    sent right after the announcement is not lost.
    """

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._previous: dict[int, t.Any] = {}
        #: The number of the first signal that arrived, if any.
        self.received: int | None = None

    def _handle(self, signum: int, frame: types.FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        self._arrived.set()

    def __enter__(self) -> StopSignals:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def wait(self, timeout: float | None = None) -> int:
        """Block the main thread until SIGINT or SIGTERM arrives.

        :param timeout: The most seconds to wait; ``None`` waits for ever.
        :return: The number of the signal.
        :raises TimeoutError: No signal arrived within ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # Short timed waits, so that the handler runs promptly on every
        # platform.
        while not self._arrived.wait(0.5 if deadline is None else _left(deadline)):
            if deadline is not None and time.monotonic() >= deadline:
                if self._arrived.is_set():  # it came just now
                    break
                raise TimeoutError(f"No stop signal arrived within {timeout} s.")
        assert self.received is not None
        return self.received


def _left(deadline: float) -> float:
    return max(0.0, min(0.5, deadline - time.monotonic()))
