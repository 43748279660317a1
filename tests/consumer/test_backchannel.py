"""Where back-channel logouts are remembered (the logout stores) and the
blueprint's side of them: the route, and the work loaded on first use."""

from __future__ import annotations

import sys
import typing as t

import flask
import pytest
from cachelib import SimpleCache
from freezegun import freeze_time

from flask_dance.consumer import CacheLogoutStore
from flask_dance.consumer import MemoryLogoutStore
from flask_dance.consumer import OAuth2ConsumerBlueprint

ISSUER = "https://idp.example.com"


@pytest.fixture(params=["memory", "cache"])
def store(request: pytest.FixtureRequest) -> t.Any:
    if request.param == "memory":
        return MemoryLogoutStore()
    return CacheLogoutStore(SimpleCache())


def test_add_keeps_the_first_value_until_it_expires(store: t.Any) -> None:
    with freeze_time("2026-01-01 00:00:00") as clock:
        assert store.add("jti:a", 1.0, 60) is True
        assert store.add("jti:a", 2.0, 60) is False
        assert store.get("jti:a") == 1.0
        clock.tick(61)
        assert store.get("jti:a") is None
        if isinstance(store, MemoryLogoutStore):
            # cachelib's SimpleCache keeps an expired key for add()
            assert store.add("jti:a", 3.0, 60) is True
            assert store.get("jti:a") == 3.0


def test_put_replaces_and_get_reads(store: t.Any) -> None:
    with freeze_time("2026-01-01 00:00:00"):
        assert store.get("sub:x") is None
        store.put("sub:x", 10.0, 60)
        store.put("sub:x", 20.0, 60)
        assert store.get("sub:x") == 20.0


def test_a_cache_value_that_is_no_time_reads_as_none() -> None:
    cache = SimpleCache()
    store = CacheLogoutStore(cache)
    cache.set("sub:x", "not a time")
    assert store.get("sub:x") is None
    cache.set("sub:y", 5)
    assert store.get("sub:y") == 5.0


def test_the_memory_store_prunes_expired_entries_when_large() -> None:
    store = MemoryLogoutStore()
    with freeze_time("2026-01-01 00:00:00") as clock:
        for number in range(10_001):
            store.put(f"k{number}", 1.0, 10)
        clock.tick(11)
        store.add("fresh", 1.0, 10)
        assert len(store._values) == 1


def test_the_route_is_a_post_and_needs_an_issuer() -> None:
    bp = OAuth2ConsumerBlueprint(
        "corp", __name__, issuer=ISSUER, backchannel_logout=True
    )
    app = flask.Flask(__name__)
    app.register_blueprint(bp, url_prefix="/login")
    (rule,) = [
        r for r in app.url_map.iter_rules() if r.endpoint == "corp.backchannel_logout"
    ]
    assert rule.rule == "/login/corp/backchannel-logout"
    assert rule.methods is not None
    assert "POST" in rule.methods
    assert "GET" not in rule.methods
    assert isinstance(bp.backchannel_logout_store, MemoryLogoutStore)
    with pytest.raises(ValueError, match="issuer"):
        OAuth2ConsumerBlueprint("x", __name__, backchannel_logout=True)


def test_a_custom_rule_and_store_are_used() -> None:
    store = CacheLogoutStore(SimpleCache())
    bp = OAuth2ConsumerBlueprint(
        "corp",
        __name__,
        issuer=ISSUER,
        backchannel_logout=True,
        backchannel_logout_url="/bye/{bp.name}",
        backchannel_logout_store=store,
    )
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    rules = {r.endpoint: r.rule for r in app.url_map.iter_rules()}
    assert rules["corp.backchannel_logout"] == "/bye/corp"
    assert bp.backchannel_logout_store is store


def test_tokens_are_not_checked_without_the_route() -> None:
    """A blueprint without back-channel logout hands the stored token on as
    it is, without loading the logout work."""
    bp = OAuth2ConsumerBlueprint("plain", __name__, issuer=ISSUER)
    token = {"access_token": "a", "id_token_claims": {"iss": ISSUER, "sub": "u"}}
    bp.token_getter(lambda: token)
    assert bp._stored_token() is token
    assert "_logouts" not in vars(bp)


def test_the_logout_work_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    bp = OAuth2ConsumerBlueprint(
        "corp", __name__, issuer=ISSUER, backchannel_logout=True
    )
    first = bp._logouts
    assert first is sys.modules["flask_dance.consumer._backchannel_logout"]
    monkeypatch.delitem(sys.modules, "flask_dance.consumer._backchannel_logout")
    assert bp._logouts is first
