"""The deadline's watchdog thread: it sleeps until the next call that is
still running is due, however many calls ended in time before it."""

from __future__ import annotations

import os
import typing as t

import pytest
from freezegun import freeze_time

from flask_dance.consumer import _deadline


class _Stop(Exception):
    """Ends the watchdog's loop in the test."""


class _RecordingCondition:
    """Stands in for the watchdog's condition: records each wait, lets the
    frozen clock run for the time waited, and stops the loop after
    ``stop_after`` waits."""

    def __init__(self, frozen: t.Any, stop_after: int) -> None:
        self.frozen = frozen
        self.stop_after = stop_after
        self.waits: list[float | None] = []

    def __enter__(self) -> _RecordingCondition:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self, timeout: float | None = None) -> None:
        self.waits.append(timeout)
        if len(self.waits) >= self.stop_after:
            raise _Stop
        if timeout is not None:
            self.frozen.tick(timeout)


def _watchdog_with(calls: list[_deadline.Call]) -> _deadline._Watchdog:
    watchdog = _deadline._Watchdog()
    watchdog._pid = os.getpid()  # as if its thread were running: none starts
    for order, call in enumerate(calls):
        watchdog._heap.append((call.ends_at, order, call))
    return watchdog


def test_watchdog_sleeps_past_calls_that_ended() -> None:
    with freeze_time("2026-01-01 00:00:00") as frozen:
        now = _deadline.time.monotonic()
        ended = [_deadline.Call(now + 1 + second) for second in range(50)]
        for call in ended:
            call.done = True
        running = _deadline.Call(now + 100)
        watchdog = _watchdog_with([*ended, running])
        condition = _RecordingCondition(frozen, stop_after=1)
        watchdog._cond = condition  # type: ignore[assignment]
        with pytest.raises(_Stop):
            watchdog._run()
    # one sleep, until the running call is due; not one per ended call
    assert condition.waits == [pytest.approx(100)]
    assert [entry[2] for entry in watchdog._heap] == [running]


def test_watchdog_expires_a_call_that_is_due() -> None:
    with freeze_time("2026-01-01 00:00:00") as frozen:
        now = _deadline.time.monotonic()
        running = _deadline.Call(now + 5)
        watchdog = _watchdog_with([running])
        condition = _RecordingCondition(frozen, stop_after=2)
        watchdog._cond = condition  # type: ignore[assignment]
        with pytest.raises(_Stop):
            watchdog._run()
    assert running.expired
    assert condition.waits == [pytest.approx(5), None]
