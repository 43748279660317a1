"""Benchmark Flask-Dance against the same app written by hand with one
long-lived :class:`requests.Session`.

Run it from the repository root::

    python bench/run.py            # the full run, about a minute
    python bench/run.py --quick    # a shorter, noisier run

It starts a local OAuth 2 provider (HTTP/1.1 keep-alive, over TLS with a
throw-away CA that the clients verify, and over plain HTTP), drives each
scenario's two apps with Flask's test client in interleaved rounds, and
prints, for each scenario, the median time per request of both sides, their
ratio, the TCP connections each side opened at the provider and the peak
memory allocated while serving requests. It exits with status 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

if t.TYPE_CHECKING:
    import flask
    from _provider import Provider
    from flask.testing import FlaskClient


# -- what one side of a scenario does ------------------------------------------


class Side:
    """One side of a scenario: an app, and how to make one timed request."""

    #: The provider this side talks to, whose connections are counted.
    provider: Provider | None = None

    def one(self) -> float:
        """Make one request; return the seconds the timed part took."""
        raise NotImplementedError

    def check(self) -> None:
        """Make one request and fail loudly unless it did the real work."""
        raise NotImplementedError


def _timed(client: FlaskClient, path: str) -> tuple[float, t.Any]:
    start = time.perf_counter()
    resp = client.get(path)
    return time.perf_counter() - start, resp


def _logged_in_client(app: flask.Flask, dpop: bool = False) -> FlaskClient:
    from _apps import TOKEN_KEY

    client = app.test_client()
    token: dict[str, t.Any] = {
        "access_token": "tok-0123456789abcdef",
        "token_type": "bearer",
        "scope": ["read:user"],
    }
    if dpop:
        from flask_dance.consumer._dpop import new_key

        token.update(token_type="DPoP", dpop_jwk=new_key())
    with client.session_transaction() as sess:
        sess[TOKEN_KEY] = token
    return client


class PageSide(Side):
    """GET one path with one browser (one cookie jar).

    :param app: The app.
    :param path: The path.
    :param expect: The body a correct answer has.
    :param logged_in: Whether the browser holds a token in its session.
    :param provider: The provider whose connections this side opens.
    :param dpop: Whether that token is DPoP-bound (each call signs a proof).
    """

    def __init__(
        self,
        app: flask.Flask,
        path: str,
        expect: bytes,
        *,
        logged_in: bool = True,
        provider: Provider | None = None,
        dpop: bool = False,
    ) -> None:
        self.client = _logged_in_client(app, dpop) if logged_in else app.test_client()
        self.path = path
        self.expect = expect
        self.provider = provider

    def one(self) -> float:
        elapsed, _ = _timed(self.client, self.path)
        return elapsed

    def check(self) -> None:
        resp = self.client.get(self.path)
        if resp.status_code != 200 or resp.data != self.expect:
            raise AssertionError(
                f"GET {self.path}: {resp.status_code} {resp.data[:200]!r}"
            )


class LookupSide(Side):
    """GET ``/lookup?uid=N`` for random users of a token table.

    :param app: The app.
    :param rows: How many users the table holds.
    """

    def __init__(self, app: flask.Flask, rows: int) -> None:
        self.client = app.test_client()
        self.rng = random.Random(rows)
        self.rows = rows

    def one(self) -> float:
        elapsed, _ = _timed(
            self.client, f"/lookup?uid={self.rng.randint(1, self.rows)}"
        )
        return elapsed

    def check(self) -> None:
        for uid, expect in ((1, b"yes"), (self.rows, b"yes"), (self.rows + 1, b"no")):
            resp = self.client.get(f"/lookup?uid={uid}")
            if resp.data != expect:
                raise AssertionError(f"lookup of user {uid}: {resp.data!r}")


class LoginSide(Side):
    """GET the login view as a new visitor; time only that request.

    :param app: The app.
    :param authorize_url: Where the login must redirect to.
    """

    def __init__(self, app: flask.Flask, authorize_url: str) -> None:
        self.app = app
        self.authorize_url = authorize_url

    def one(self) -> float:
        elapsed, _ = _timed(self.app.test_client(), "/login/github")
        return elapsed

    def check(self) -> None:
        resp = self.app.test_client().get("/login/github")
        location = resp.headers.get("Location", "")
        query = parse_qs(urlsplit(location).query)
        if (
            resp.status_code != 302
            or not location.startswith(self.authorize_url)
            or query.get("code_challenge_method") != ["S256"]
            or not query.get("state")
        ):
            raise AssertionError(f"login: {resp.status_code} {location!r}")


class CallbackSide(Side):
    """Start a login (not timed), then time the provider's redirect back to
    the callback: checking the state and exchanging the code over TLS.

    :param app: The app.
    :param provider: The provider.
    """

    def __init__(self, app: flask.Flask, provider: Provider) -> None:
        self.app = app
        self.provider = provider

    def _start(self) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        resp = client.get("/login/github")
        state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
        return client, f"/login/github/authorized?code=bench-code&state={state}"

    def one(self) -> float:
        client, path = self._start()
        elapsed, _ = _timed(client, path)
        return elapsed

    def check(self) -> None:
        client, path = self._start()
        resp = client.get(path)
        if resp.status_code != 302:
            raise AssertionError(f"callback: {resp.status_code}")
        # The token obtained must now work against the API.
        api = client.get("/api")
        if api.data != b"octocat":
            raise AssertionError(f"callback did not store a token: {api.data!r}")


# -- scenarios -----------------------------------------------------------------


@dataclass
class Scenario:
    """Two sides measured against each other."""

    name: str
    description: str
    ours: Side
    baseline: Side
    #: The highest acceptable ratio ours / baseline, or ``None``.
    target: float | None = None
    #: Whether each side must open exactly one connection in the whole run.
    one_connection: bool = False
    #: Labels of the two sides, when they are not ours / baseline.
    labels: tuple[str, str] = ("ours", "baseline")
    times: dict[str, list[float]] = field(default_factory=lambda: {"a": [], "b": []})
    requests: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    connections: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    peak: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})

    def side(self, key: str) -> Side:
        return self.ours if key == "a" else self.baseline

    def median(self, key: str) -> float:
        return statistics.median(self.times[key])

    @property
    def ratio(self) -> float:
        return self.median("a") / self.median("b")

    def misses(self) -> list[str]:
        problems = []
        if self.target is not None and self.ratio > self.target:
            problems.append(f"{self.name}: ratio {self.ratio:.3f} > {self.target:.2f}")
        if self.one_connection:
            for key in "ab":
                if self.connections[key] != 1:
                    problems.append(
                        f"{self.name}: {self.labels['ab'.index(key)]} opened"
                        f" {self.connections[key]} TCP connections for"
                        f" {self.requests[key]} page views"
                    )
        return problems


def _counted(
    scenario: Scenario, key: str, requests: int, func: t.Callable[[], t.Any]
) -> t.Any:
    """Run ``func``, which makes ``requests`` page views on one side, and
    count the page views and the TCP connections the provider accepted."""
    provider = scenario.side(key).provider
    before = provider.accepted if provider is not None else 0
    result = func()
    scenario.requests[key] += requests
    if provider is not None:
        scenario.connections[key] += provider.accepted - before
    return result


def _run_batch(scenario: Scenario, count: int, first: int, record: bool) -> None:
    """Make ``count`` requests on each side, alternating sides request by
    request, so that both sides see the same state of the machine."""
    for number in range(count):
        for key in "ab" if (number + first) % 2 == 0 else "ba":
            elapsed = _counted(scenario, key, 1, scenario.side(key).one)
            if record:
                scenario.times[key].append(elapsed)


def _measure_peak(scenario: Scenario, key: str, count: int) -> None:
    side = scenario.side(key)
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(count):
            side.one()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    scenario.peak[key] = peak - start


#: A speed device stays only if it saves at least 3 % of its page: the
#: ``device_*`` scenarios time the page with it against the same app with it
#: switched off.
DEVICE_TARGET = 0.97


def build_scenarios(
    workdir: str, providers: dict[str, Provider], sqla_rows: tuple[int, int]
) -> list[Scenario]:
    """Make the apps of every scenario.

    :param workdir: Where the databases go.
    :param providers: ``"tls"`` and ``"plain"`` providers.
    :param sqla_rows: The small and the large token table sizes.
    """
    import _apps
    import _sqla
    from _provider import AUTHORIZE_PATH

    tls = providers["tls"]
    plain = providers["plain"]
    authorize_url = tls.url + AUTHORIZE_PATH.lstrip("/")
    small, large = sqla_rows

    scenarios = [
        Scenario(
            "api_tls",
            "logged-in page calling the provider API over TLS",
            PageSide(_apps.ours_app(tls.url)[0], "/api", b"octocat", provider=tls),
            PageSide(_apps.baseline_app(tls.url), "/api", b"octocat", provider=tls),
            target=1.10,
            one_connection=True,
        ),
        Scenario(
            "api_plain",
            "the same over plain HTTP",
            PageSide(_apps.ours_app(plain.url)[0], "/api", b"octocat", provider=plain),
            PageSide(_apps.baseline_app(plain.url), "/api", b"octocat", provider=plain),
            target=1.15,
            one_connection=True,
        ),
        Scenario(
            "api_dpop",
            "API call over TLS with a DPoP-bound token vs a bearer one",
            PageSide(
                _apps.ours_app(tls.url)[0], "/api", b"octocat", provider=tls, dpop=True
            ),
            PageSide(_apps.ours_app(tls.url)[0], "/api", b"octocat", provider=tls),
            labels=("dpop", "bearer"),
        ),
        Scenario(
            "authorized_check",
            "page that only checks github.authorized",
            PageSide(_apps.ours_app(tls.url)[0], "/check", b"yes", provider=tls),
            PageSide(_apps.baseline_app(tls.url), "/check", b"yes", provider=tls),
            target=1.05,
        ),
        Scenario(
            "login_redirect",
            "login view: new state and PKCE, redirect",
            LoginSide(_apps.ours_app(tls.url)[0], authorize_url),
            LoginSide(_apps.baseline_app(tls.url), authorize_url),
            target=1.15,
        ),
        Scenario(
            "callback",
            "callback: check state, exchange the code over TLS",
            CallbackSide(_apps.ours_app(tls.url)[0], tls),
            CallbackSide(_apps.baseline_app(tls.url), tls),
            target=1.20,
            one_connection=True,
        ),
        Scenario(
            "unused_presets",
            "page using no provider: 10 presets vs none registered",
            PageSide(_apps.ours_presets_app(10), "/", b"hello", logged_in=False),
            PageSide(_apps.baseline_presets_app(), "/", b"hello", logged_in=False),
            target=1.05,
            labels=("10 presets", "none"),
        ),
        Scenario(
            "device_authorized",
            "authorized_check: the token read without a session, or not",
            PageSide(_apps.ours_app(tls.url)[0], "/check", b"yes", provider=tls),
            PageSide(
                _apps.without_authorized_shortcut(*_apps.ours_app(tls.url)),
                "/check",
                b"yes",
                provider=tls,
            ),
            target=DEVICE_TARGET,
            labels=("device", "off"),
        ),
        Scenario(
            "device_login",
            "login_redirect: no session built for the login, or one",
            LoginSide(_apps.ours_app(tls.url)[0], authorize_url),
            LoginSide(
                _apps.without_sessionless_login(*_apps.ours_app(tls.url)),
                authorize_url,
            ),
            target=DEVICE_TARGET,
            labels=("device", "off"),
        ),
        Scenario(
            "device_config",
            "unused_presets: config change counters, or a full compare",
            PageSide(_apps.ours_presets_app(10), "/", b"hello", logged_in=False),
            PageSide(
                _apps.without_config_counters(_apps.ours_presets_app(10)),
                "/",
                b"hello",
                logged_in=False,
            ),
            target=DEVICE_TARGET,
            labels=("device", "off"),
        ),
    ]
    urls = {rows: _sqla.make_database(workdir, rows) for rows in (small, large)}
    lookups = {
        rows: (
            LookupSide(_sqla.ours_sqla_app(urls[rows], tls.url), rows),
            LookupSide(_sqla.baseline_sqla_app(urls[rows]), rows),
        )
        for rows in (small, large)
    }
    scenarios += [
        Scenario(
            f"sqla_lookup_{_count(rows)}",
            f"SQLAlchemyStorage token lookup, {rows:,} tokens stored",
            *lookups[rows],
        )
        for rows in (small, large)
    ]
    scenarios.append(
        Scenario(
            "sqla_growth",
            f"SQLAlchemyStorage lookup: {large:,} vs {small:,} tokens",
            lookups[large][0],
            lookups[small][0],
            target=1.20,
            labels=(_count(large), _count(small)),
        )
    )
    return scenarios


def _count(rows: int) -> str:
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def run(scenarios: list[Scenario], rounds: int, batch: int, peak_requests: int) -> None:
    """Measure every scenario in interleaved rounds.

    Each round runs a batch of each scenario, alternating its two sides
    request by request, so that a drift of the machine's speed affects both
    sides alike. The first round warms up and is not recorded.

    :param scenarios: The scenarios.
    :param rounds: How many recorded rounds.
    :param batch: Requests per side per round.
    :param peak_requests: Requests per side measured under tracemalloc.
    """
    for scenario in scenarios:
        for key in "ab":
            _counted(scenario, key, 1, scenario.side(key).check)
    for number in range(rounds + 1):
        for scenario in scenarios:
            _run_batch(scenario, batch, number, record=number > 0)
        print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    for scenario in scenarios:
        for key in "ab":
            _counted(
                scenario,
                key,
                peak_requests,
                functools.partial(_measure_peak, scenario, key, peak_requests),
            )


# -- output --------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"


def report(scenarios: list[Scenario], settings: dict[str, t.Any]) -> list[str]:
    """Print the table; return the missed targets.

    :param scenarios: The measured scenarios.
    :param settings: What to print about the run.
    """
    header = (
        f"{'scenario':<18} {'side a':>10} {'side b':>10} {'a µs':>8} {'b µs':>8}"
        f" {'ratio':>6} {'target':>6}  {'TCP conns a/b':>15} {'peak KiB a/b':>14}"
    )
    lines = [header, "-" * len(header)]
    for s in scenarios:
        target = f"{s.target:.2f}" if s.target is not None else "-"
        verdict = ""
        if s.target is not None:
            verdict = " ok" if s.ratio <= s.target else " MISSED"
        if s.connections["a"] or s.connections["b"] or s.one_connection:
            conns = f"{s.connections['a']}/{s.connections['b']} ({s.requests['a']})"
        else:
            conns = "-"
        peak = f"{s.peak['a'] // 1024}/{s.peak['b'] // 1024}"
        lines.append(
            f"{s.name:<18} {s.labels[0]:>10} {s.labels[1]:>10}"
            f" {_us(s.median('a')):>8} {_us(s.median('b')):>8}"
            f" {s.ratio:>6.3f} {target:>6}  {conns:>15} {peak:>14}{verdict}"
        )
    print()
    for key, value in settings.items():
        print(f"{key}: {value}")
    print()
    print("\n".join(lines))
    print()
    misses = [problem for s in scenarios for problem in s.misses()]
    if misses:
        print("Targets missed:")
        for problem in misses:
            print(f"  {problem}")
    else:
        print("Every target is met.")
    return misses


def _results(scenarios: list[Scenario], settings: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "settings": settings,
        "scenarios": [
            {
                "name": s.name,
                "description": s.description,
                "labels": list(s.labels),
                "median_us": [s.median("a") * 1e6, s.median("b") * 1e6],
                "ratio": s.ratio,
                "target": s.target,
                "samples": [len(s.times["a"]), len(s.times["b"])],
                "requests": [s.requests["a"], s.requests["b"]],
                "tcp_connections": [s.connections["a"], s.connections["b"]],
                "peak_bytes": [s.peak["a"], s.peak["b"]],
            }
            for s in scenarios
        ],
    }


def _clean_environment(ca_cert: str) -> None:
    # Proxies from the environment must not intercept the local provider;
    # both sides verify TLS against the run's own CA.
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del os.environ[name]
    os.environ["REQUESTS_CA_BUNDLE"] = ca_cert
    os.environ.pop("CURL_CA_BUNDLE", None)
    # The plain-HTTP scenario talks OAuth over http://127.0.0.1.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short, noisier run")
    parser.add_argument("--rounds", type=int, help="recorded rounds (default 30)")
    parser.add_argument("--batch", type=int, help="requests per side per round (40)")
    parser.add_argument("--rows", type=int, default=100_000, help="large table size")
    parser.add_argument("--json", metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--only", metavar="NAMES", help="comma-separated scenarios to run (default all)"
    )
    parser.add_argument(
        "--upstream",
        metavar="DIR",
        default=os.environ.get("FLASK_DANCE_UPSTREAM"),
        help="a directory holding Flask-Dance 7.1, for the import scenario"
        " (default: $FLASK_DANCE_UPSTREAM)",
    )
    parser.add_argument(
        "--import-runs", type=int, help="fresh interpreters per side for import (20)"
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (6 if args.quick else 30)
    batch = args.batch or (20 if args.quick else 40)
    import_runs = args.import_runs or (6 if args.quick else 20)
    wanted = set(args.only.split(",")) if args.only else None

    from _imports import make_scenario
    from _provider import Provider

    import flask_dance
    from flask_dance.testing._crypto import make_tls_files

    imports = None
    scenarios: list[Scenario] = []
    with tempfile.TemporaryDirectory(prefix="flask-dance-bench-") as workdir:
        started = time.perf_counter()
        if wanted is None or "import" in wanted:
            imports = make_scenario(os.path.dirname(HERE), args.upstream)
            imports.run(import_runs, workdir)
        tls_files = make_tls_files(workdir)
        _clean_environment(tls_files.ca_file)
        providers = {"tls": Provider(tls_files), "plain": Provider(None)}
        try:
            scenarios = build_scenarios(workdir, providers, (1_000, args.rows))
            if wanted is not None:
                unknown = wanted - {s.name for s in scenarios} - {"import"}
                if unknown:
                    parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
                scenarios = [s for s in scenarios if s.name in wanted]
            if scenarios:
                run(scenarios, rounds, batch, peak_requests=batch)
            elapsed = time.perf_counter() - started
        finally:
            for provider in providers.values():
                provider.stop()
    settings = {
        "flask-dance": flask_dance.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "driver": "Flask test client, in process; provider in a child process",
        "rounds": f"{rounds} (+1 warm-up), {batch} requests per side per round",
        "samples per side": rounds * batch,
        "duration": f"{elapsed:.0f} s",
    }
    misses = report(scenarios, settings) if scenarios else []
    results = _results(scenarios, settings)
    if imports is not None:
        print("\n".join(imports.report()))
        print()
        misses += imports.misses()
        results["import"] = imports.results()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
