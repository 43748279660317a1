"""How flask_dance/_shutdown.py stops the command-line servers on SIGINT and SIGTERM."""

from __future__ import annotations

import os
import signal
import typing as t

import pytest

from flask_dance._shutdown import STOP_SIGNALS
from flask_dance._shutdown import StopSignals


@pytest.fixture
def handlers() -> t.Iterator[dict[int, t.Any]]:
    """The handlers of both signals before the test; restored after it."""
    before = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    yield before
    for number, handler in before.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_wait_with_its_number(
    number: signal.Signals, handlers: dict[int, t.Any]
) -> None:
    with StopSignals() as stop:
        os.kill(os.getpid(), number)
        assert stop.wait(timeout=10) == number
    assert stop.received == number


def test_the_first_signal_is_the_one_kept(handlers: dict[int, t.Any]) -> None:
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(timeout=10) == signal.SIGTERM


def test_the_old_handlers_come_back_on_exit(handlers: dict[int, t.Any]) -> None:
    with StopSignals() as stop:
        assert signal.getsignal(signal.SIGTERM) == stop._handle
        assert signal.getsignal(signal.SIGINT) == stop._handle
    assert {n: signal.getsignal(n) for n in handlers} == handlers


def test_an_ignored_sigint_still_stops_the_wait(handlers: dict[int, t.Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(timeout=10) == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_a_wait_with_a_timeout_ends_without_a_signal(
    handlers: dict[int, t.Any],
) -> None:
    with StopSignals() as stop, pytest.raises(TimeoutError, match="within 0.05 s"):
        stop.wait(timeout=0.05)
    assert stop.received is None
