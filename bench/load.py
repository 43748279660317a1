"""A load test of logins, API page views and a refresh storm, across
gunicorn worker processes sharing PostgreSQL and Redis.

Run it from the repository root::

    python bench/load.py              # 500 logins, 2,000 page views, storm of 50
    python bench/load.py --logins 100 --views 400

It starts the local provider (``flask_dance.testing.LocalProvider``) in this
process and ``bench/load_app.py`` under gunicorn with 4 worker processes,
with :class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage` on the
PostgreSQL server at 127.0.0.1:5432 (a table of its own, dropped at the end)
and Flask-Caching's ``RedisCache`` on 127.0.0.1:6379 (a key prefix of its
own, deleted at the end). Then it drives, from concurrent HTTP clients that
each keep their own cookies:

1. logins: each is the app's login view, the provider's approval (as the
   provider user of that browser, picked with ``login_hint``), the app's
   callback, and an API page view that must answer that provider user;
2. API page views of random users, each checked the same way;
3. a refresh storm: one user's token is made to expire in the database (and
   its cache entry removed), then concurrent page views of that user, spread
   over the workers, must all succeed with exactly one refresh at the
   provider.

It prints the figures and checks: every login stored exactly one token for
its user, no 5xx, no answer about another user, one refresh in the storm. It
exits with status 1 when a check fails, 2 when PostgreSQL or Redis is
unreachable.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import typing as t

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, ROOT)

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from flask_dance.testing import LocalProvider  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = ("127.0.0.1", 6379)


class Browser:
    """One user's browser: its own cookie jar for the app; the provider is
    visited without the app's cookies."""

    def __init__(self, provider_user: str) -> None:
        self.http = requests.Session()
        self.provider_user = provider_user
        self.uid: int | None = None


class Stats:
    """What the clients saw; shared by their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: collections.Counter[int] = collections.Counter()
        self.problems: list[str] = []
        self.cross_user = 0
        self.login_times: list[float] = []
        self.view_times: list[float] = []
        self.split_logins = 0
        self.workers: collections.Counter[str] = collections.Counter()

    def saw(self, response: requests.Response) -> None:
        with self.lock:
            self.status[response.status_code] += 1
            self.workers[response.headers.get("X-Worker", "?")] += 1

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _get(
    browser: Browser, url: str, stats: Stats, **kwargs: t.Any
) -> requests.Response:
    response = browser.http.get(url, allow_redirects=False, timeout=30, **kwargs)
    stats.saw(response)
    return response


def check_api(browser: Browser, base: str, stats: Stats) -> requests.Response:
    """One API page view; counts an answer about anyone else."""
    started = time.perf_counter()
    response = _get(browser, base + "/api", stats)
    elapsed = time.perf_counter() - started
    with stats.lock:
        stats.view_times.append(elapsed)
    if response.status_code != 200:
        stats.problem(f"/api answered {response.status_code}: {response.text[:200]}")
        return response
    body = response.json()
    if body["login"] != browser.provider_user or body["uid"] != browser.uid:
        with stats.lock:
            stats.cross_user += 1
        stats.problem(f"/api for {browser.provider_user}/{browser.uid} answered {body}")
    return response


def login(
    browser: Browser, base: str, provider: requests.Session, stats: Stats
) -> bool:
    """One complete login, then one API page view that must name the user."""
    started = time.perf_counter()
    first = _get(browser, base + "/login/local", stats)
    if first.status_code != 302:
        stats.problem(f"login view answered {first.status_code}")
        return False
    # The user picks their account at the provider.
    approval = provider.get(
        first.headers["Location"] + "&login_hint=" + browser.provider_user,
        allow_redirects=False,
        timeout=30,
    )
    if approval.status_code != 302:
        stats.problem(f"provider answered {approval.status_code}")
        return False
    callback = _get(browser, approval.headers["Location"], stats)
    if callback.status_code != 302 or callback.headers.get("Location") != "/":
        stats.problem(
            f"callback answered {callback.status_code}: {callback.text[:200]}"
        )
        return False
    with stats.lock:
        stats.login_times.append(time.perf_counter() - started)
        if first.headers.get("X-Worker") != callback.headers.get("X-Worker"):
            stats.split_logins += 1
    if browser.uid is None:
        browser.uid = _get(browser, base + "/", stats).json()["uid"]
    return check_api(browser, base, stats).status_code == 200


def _start_gunicorn(
    env: dict[str, str], port: int, workers: int
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        HERE,
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "256",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "load_app:create_app()",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            if requests.get(base + "/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, t.Any]:
    """Run the load test; return the figures and the failed checks."""
    from load_app import make_model
    from load_app import PROVIDER_NAME

    run_id = secrets.token_hex(4)
    table = f"fd_load_{run_id}"
    prefix = f"fd-load-{run_id}-"
    model = make_model(table)
    engine = sa.create_engine(PG_URL, pool_size=4)
    model.__table__.create(engine)  # type: ignore[attr-defined]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    stats = Stats()
    result: dict[str, t.Any] = {"run": run_id}
    failures: list[str] = []
    process = None
    with LocalProvider(auto_approve=True) as provider:
        try:
            env = dict(os.environ)
            env.update(
                LOAD_PROVIDER_URL=provider.url,
                LOAD_DATABASE_URL=PG_URL,
                LOAD_TABLE=table,
                LOAD_REDIS_HOST=REDIS[0],
                LOAD_REDIS_PORT=str(REDIS[1]),
                LOAD_CACHE_PREFIX=prefix,
                LOAD_SECRET_KEY=secrets.token_hex(16),
                OAUTHLIB_INSECURE_TRANSPORT="1",
                LOAD_NO_REFRESH_LOCK="1" if args.no_refresh_lock else "",
                PYTHONPATH=os.pathsep.join(
                    [ROOT, HERE, env.get("PYTHONPATH", "")]
                ).rstrip(os.pathsep),
            )
            process = _start_gunicorn(env, port, args.workers)
            _wait_until_up(base, process, 30)

            # -- 1. logins ----------------------------------------------------
            rng = random.Random(args.seed)
            per_client: list[list[Browser]] = [[] for _ in range(args.clients)]

            def client_logins(index: int, count: int) -> int:
                provider_http = requests.Session()
                done = 0
                for number in range(count):
                    browsers = per_client[index]
                    if browsers and number % 5 == 4:
                        # Log an existing user in again.
                        browser = browsers[number % len(browsers)]
                    else:
                        user = f"user-{index}-{number}"
                        provider.add_user(user, name=user, email=f"{user}@example.com")
                        browser = Browser(user)
                        browsers.append(browser)
                    done += login(browser, base, provider_http, stats)
                return done

            shares = [
                args.logins // args.clients + (i < args.logins % args.clients)
                for i in range(args.clients)
            ]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
                logins_ok = sum(pool.map(client_logins, range(args.clients), shares))
            login_seconds = time.perf_counter() - started
            users = [b for browsers in per_client for b in browsers]
            result.update(
                logins=args.logins,
                logins_ok=logins_ok,
                users=len(users),
                logins_per_second=round(args.logins / login_seconds, 1),
                login_p50_ms=round(
                    1000 * statistics.median(stats.login_times or [0]), 1
                ),
                login_p95_ms=round(1000 * _percentile(stats.login_times, 0.95), 1),
                logins_across_workers=stats.split_logins,
            )
            if logins_ok != args.logins:
                failures.append(f"{args.logins - logins_ok} logins did not complete")

            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        f"SELECT user_id, count(*) FROM {table}"
                        " WHERE provider = :p GROUP BY user_id"
                    ),
                    {"p": PROVIDER_NAME},
                ).all()
            counts: dict[int, int] = {uid: n for uid, n in rows}
            expected = {b.uid for b in users}
            result["token_rows"] = sum(counts.values())
            if set(counts) != expected or any(n != 1 for n in counts.values()):
                failures.append(
                    f"stored tokens: {len(counts)} users, {sum(counts.values())}"
                    f" rows, expected one row for each of {len(expected)} users"
                )

            # -- 2. API page views --------------------------------------------
            stats.view_times.clear()

            def client_views(index: int, count: int) -> None:
                local = random.Random(args.seed + index)
                browsers = per_client[index] or users
                for _ in range(count):
                    check_api(local.choice(browsers), base, stats)

            view_shares = [
                args.views // args.clients + (i < args.views % args.clients)
                for i in range(args.clients)
            ]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(client_views, range(args.clients), view_shares))
            view_seconds = time.perf_counter() - started
            result.update(
                views=args.views,
                views_per_second=round(args.views / view_seconds, 1),
                view_p50_ms=round(1000 * statistics.median(stats.view_times or [0]), 1),
                view_p95_ms=round(1000 * _percentile(stats.view_times, 0.95), 1),
            )

            # -- 3. the refresh storm -----------------------------------------
            victim = rng.choice(users)
            with engine.begin() as conn:
                token = conn.execute(
                    sa.text(f"SELECT token FROM {table} WHERE user_id = :u"),
                    {"u": victim.uid},
                ).scalar_one()
                token = dict(token, expires_at=time.time() - 30, expires_in=-30)
                conn.execute(
                    sa.text(f"UPDATE {table} SET token = :t WHERE user_id = :u"),
                    {"t": json.dumps(token), "u": victim.uid},
                )
            _redis_delete(prefix + f"flask_dance_token|{PROVIDER_NAME}|{victim.uid}")
            refreshes_before = provider.calls["refresh"]
            barrier = threading.Barrier(args.storm)
            storm_workers: collections.Counter[str] = collections.Counter()
            storm_status: collections.Counter[int] = collections.Counter()
            cookies = victim.http.cookies

            def storm_view(_: int) -> None:
                twin = Browser(victim.provider_user)
                twin.uid = victim.uid
                twin.http.cookies.update(cookies)
                barrier.wait(30)
                response = check_api(twin, base, stats)
                with stats.lock:
                    storm_workers[response.headers.get("X-Worker", "?")] += 1
                    storm_status[response.status_code] += 1

            with concurrent.futures.ThreadPoolExecutor(args.storm) as pool:
                list(pool.map(storm_view, range(args.storm)))
            storm_refreshes = provider.calls["refresh"] - refreshes_before
            result.update(
                storm=args.storm,
                storm_ok=storm_status[200],
                storm_workers=len(storm_workers),
                storm_refreshes=storm_refreshes,
            )
            if storm_refreshes != 1:
                failures.append(f"the storm made {storm_refreshes} refreshes, not 1")
            if storm_status[200] != args.storm:
                failures.append(f"storm answers: {dict(storm_status)}")
            if len(storm_workers) < 2:
                failures.append("the storm reached fewer than 2 workers")
        finally:
            if process is not None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            model.__table__.drop(engine)  # type: ignore[attr-defined]
            engine.dispose()
            _redis_delete_prefix(prefix)

    errors_5xx = sum(n for code, n in stats.status.items() if code >= 500)
    result.update(
        requests=sum(stats.status.values()),
        status=dict(sorted(stats.status.items())),
        errors_5xx=errors_5xx,
        cross_user=stats.cross_user,
        workers=len(stats.workers),
    )
    if errors_5xx:
        failures.append(f"{errors_5xx} responses were 5xx")
    if stats.cross_user:
        failures.append(f"{stats.cross_user} answers were about another user")
    if result.get("logins_across_workers", 0) == 0:
        failures.append("no login had its callback on another worker")
    other = {c: n for c, n in stats.status.items() if c not in (200, 302)}
    if other:
        failures.append(f"unexpected statuses: {other}")
    result["problems"] = stats.problems
    result["failures"] = failures
    return result


def _redis_client() -> t.Any:
    import redis

    return redis.Redis(host=REDIS[0], port=REDIS[1], socket_timeout=5)


def _redis_delete(key: str) -> None:
    _redis_client().delete(key)


def _redis_delete_prefix(prefix: str) -> None:
    client = _redis_client()
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


def _print(result: dict[str, t.Any]) -> None:
    print(f"load test {result['run']}: gunicorn, 4 workers, PostgreSQL + Redis")
    rows = [
        (
            "logins",
            f"{result.get('logins_ok')} of {result.get('logins')} complete"
            f" ({result.get('users')} users), {result.get('logins_per_second')}/s,"
            f" p50 {result.get('login_p50_ms')} ms,"
            f" p95 {result.get('login_p95_ms')} ms",
        ),
        ("callback on another worker", f"{result.get('logins_across_workers')} logins"),
        ("token rows", str(result.get("token_rows"))),
        (
            "API page views",
            f"{result.get('views')}, {result.get('views_per_second')}/s,"
            f" p50 {result.get('view_p50_ms')} ms, p95 {result.get('view_p95_ms')} ms",
        ),
        (
            "refresh storm",
            f"{result.get('storm_ok')} of {result.get('storm')} page views"
            f" OK over {result.get('storm_workers')} workers,"
            f" {result.get('storm_refreshes')} refresh request(s) at the provider",
        ),
        ("requests", f"{result['requests']}, statuses {result['status']}"),
        ("5xx", str(result["errors_5xx"])),
        ("answers about another user", str(result["cross_user"])),
    ]
    for name, value in rows:
        print(f"  {name:<28} {value}")
    for problem in result["problems"]:
        print(f"  problem: {problem}")
    if result["failures"]:
        for failure in result["failures"]:
            print(f"FAILED: {failure}")
    else:
        print("All checks passed.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=500)
    parser.add_argument("--views", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--storm", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-refresh-lock",
        action="store_true",
        help="turn the storage's refresh lock off: the storm check should fail",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args(argv)
    if not _reachable("127.0.0.1", 5432) or not _reachable(*REDIS):
        print("PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are needed.")
        return 2
    result = run(args)
    _print(result)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
