"""The command-line servers and the tests that start them behave in the
background of a non-interactive shell, where SIGINT arrives ignored.

``bash -c 'cmd & wait'`` starts ``cmd`` with SIGINT and SIGQUIT ignored; Python
then installs no ``KeyboardInterrupt`` handler. The servers must still stop on
SIGINT and SIGTERM, and a test run started that way must end, leaving no
process behind.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import uuid
from pathlib import Path

import pytest

from processes import run
from processes import running

ROOT = Path(__file__).resolve().parent.parent

SERVERS = {
    "provider": ["-m", "flask_dance.testing", "--auto-approve"],
    "demo": ["-m", "flask_dance.demo", "--port", "0", "--provider-port", "0"],
}
#: The line each server prints once it waits for a signal.
READY = {"provider": "Press Ctrl+C", "demo": "Demo app: open"}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLASK_DANCE_")}


@pytest.mark.parametrize("server", sorted(SERVERS))
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_server_stops_on_signal_with_sigint_ignored(
    server: str, number: signal.Signals
) -> None:
    command = [sys.executable, *SERVERS[server]]
    with running(command, env=_env(), preexec_fn=_ignore_sigint) as child:
        child.line_starting(READY[server])
        assert child.signal(number) == 0


def _processes_with(marker: str) -> list[str]:
    """The command lines of the running processes whose environment holds
    ``marker``."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes():
                continue
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def test_subprocess_tests_pass_as_a_background_job() -> None:
    """The tests that start the servers, run by pytest as a background job of
    a non-interactive shell, pass and leave no process behind."""
    bash = shutil.which("bash")
    if bash is None or not Path("/proc/self/environ").exists():
        pytest.skip("needs bash and /proc")
    marker = f"FLASK_DANCE_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    tests = [
        "tests/testing/test_main.py::test_command_line",
        "tests/demo/test_main.py::test_python_m_flask_dance_demo_serves_both",
    ]
    pytest_command = shlex.join(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *tests]
    )
    env = {**_env(), name: value}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    result = run(
        [bash, "-c", f"{pytest_command} & wait $!"],
        cwd=ROOT,
        env=env,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    assert _processes_with(marker) == []
