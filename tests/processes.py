"""Child processes that tests start, always stopped and reaped in bounded time.

:func:`running` starts a command in a new session (its own process group)
and, however the test ends, stops the whole group: SIGTERM, a bounded wait,
then SIGKILL and another bounded wait. :meth:`Running.line` reads the child's
output with a deadline, so that a child that never prints fails the test
instead of hanging it.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import os
import queue
import signal
import subprocess
import threading
import typing as t

#: Seconds a stopped child gets to exit after SIGTERM, then after SIGKILL.
STOP_TIMEOUT = 10


class Running:
    """A started child process with a line reader on its standard output."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for line in stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line(self, timeout: float = 60) -> str:
        """The next line the child prints.

        :param timeout: Seconds to wait for it.
        :raises AssertionError: If the child ends its output or prints nothing
            in time.
        """
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout} s") from None
        if line is None:
            raise AssertionError(f"the child exited ({self.process.poll()})")
        return line

    def line_starting(self, prefix: str, timeout: float = 60) -> str:
        """Skip lines up to the first one that starts with ``prefix``.

        :param prefix: The start of the line.
        :param timeout: Seconds to wait for each line.
        """
        while True:
            line = self.line(timeout)
            if line.startswith(prefix):
                return line

    def signal(self, number: int, timeout: float = STOP_TIMEOUT) -> int:
        """Send ``number`` to the child alone and wait for it to exit.

        :param number: The signal.
        :param timeout: Seconds to wait.
        :return: The exit status.
        """
        self.process.send_signal(number)
        return self.process.wait(timeout=timeout)


def stop(process: subprocess.Popen[t.Any]) -> None:
    """Stop ``process`` and its process group, and reap it: SIGTERM, a bounded
    wait, then SIGKILL and another bounded wait.

    :param process: A child started with ``start_new_session=True``.
    """
    for number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, number)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            continue
        break
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@contextlib.contextmanager
def running(command: list[str], **kwargs: t.Any) -> cabc.Iterator[Running]:
    """Run ``command`` with its standard output readable line by line, and
    stop it (with its process group) on the way out.

    :param command: The program and its arguments.
    :param kwargs: More :class:`subprocess.Popen` arguments.
    """
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        **kwargs,
    )
    try:
        yield Running(process)
    finally:
        stop(process)


def run(
    command: list[str], *, timeout: float, **kwargs: t.Any
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end, its output captured as text, like
    :func:`subprocess.run`; on a timeout or any other way out, stop its whole
    process group (the servers it started included) and reap it.

    :param command: The program and its arguments.
    :param timeout: Seconds it may take.
    :param kwargs: More :class:`subprocess.Popen` arguments.
    :raises subprocess.TimeoutExpired: If it takes longer.
    """
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        stop(process)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
