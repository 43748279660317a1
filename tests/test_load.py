"""The load test of ``bench/load.py``: gunicorn with 4 worker processes,
PostgreSQL and Redis, 500 logins, 2,000 API page views and a refresh storm."""

from __future__ import annotations

import json
import os
import socket
import sys
import typing as t

import pytest

from processes import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def _require(host: str, port: int, what: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        reason = f"{what} at {host}:{port} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the server must be running)")
        pytest.skip(reason)


def test_load(tmp_path: t.Any) -> None:
    _require("127.0.0.1", 5432, "PostgreSQL")
    _require("127.0.0.1", 6379, "Redis")
    figures = tmp_path / "load.json"
    completed = run(
        [sys.executable, "bench/load.py", "--json", str(figures)],
        cwd=ROOT,
        timeout=240,
    )
    print(completed.stdout)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(figures.read_text())
    assert result["failures"] == []
    assert result["logins_ok"] == result["logins"] == 500
    # One stored token for each user; a fifth of the logins were re-logins.
    assert result["token_rows"] == result["users"] == 400
    assert result["views"] == 2000
    assert result["errors_5xx"] == 0
    assert result["cross_user"] == 0
    assert result["storm"] == result["storm_ok"] == 50
    assert result["storm_refreshes"] == 1
    assert result["storm_workers"] >= 2
    assert result["logins_across_workers"] > 0
