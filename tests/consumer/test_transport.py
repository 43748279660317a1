"""Provider sessions on the shared transport: each gets exactly what
``requests.Session()`` gives, on the blueprint's shared pools, never shares a
mutable value with another session, and is freed when its request ends."""

from __future__ import annotations

import gc
import typing as t
import weakref
from unittest import mock

import pytest
import requests
import requests.adapters
import requests.structures
from oauthlib.oauth2 import InvalidGrantError

from dance_helpers import in_request
from dance_helpers import make_blueprint
from flask_dance.consumer import _transport
from flask_dance.consumer import OAuth1ConsumerBlueprint
from flask_dance.consumer.requests import OAuth1Session
from flask_dance.consumer.requests import OAuth2Session

#: What a provider session adds to a requests.Session; all else must match.
_REQUESTS_PART = tuple(vars(requests.Session()))


def _requests_part(session: requests.Session) -> dict[str, t.Any]:
    return {name: getattr(session, name) for name in _REQUESTS_PART}


def _comparable(values: dict[str, t.Any]) -> dict[str, t.Any]:
    values = dict(values)
    values.pop("adapters")
    values.pop("auth")  # requests-oauthlib sets its own after requests' part
    values["cookies"] = list(values["cookies"])
    values["headers"] = dict(values["headers"])
    return values


def test_session_has_what_requests_gives_on_the_shared_pools() -> None:
    with in_request() as (blueprint, _):
        session = blueprint.session
        assert _comparable(_requests_part(session)) == _comparable(
            _requests_part(requests.Session())
        )
        shared = blueprint._shared_adapters()
        assert list(session.adapters) == list(shared)
        assert all(session.adapters[k] is shared[k] for k in shared)
        assert isinstance(session.adapters["https://"], _transport.PoolAdapter)


def test_sessions_share_no_mutable_value() -> None:
    with in_request() as (blueprint, _):
        first = blueprint.session
        first.headers["X-Job"] = "one"
        first.cookies.set("c", "1")
        first.hooks["response"].append(lambda r, *a, **k: r)
        first.params["p"] = "1"
        first.proxies["https"] = "http://proxy.invalid"
        first.adapters["mock://"] = requests.adapters.HTTPAdapter()
    with in_request() as (blueprint2, _):
        second = blueprint2.session
        assert second is not first
        assert "X-Job" not in second.headers
        assert not list(second.cookies)
        assert second.hooks == {"response": []}
        assert second.params == {}
        assert second.proxies == {}
        assert "mock://" not in second.adapters
        fresh = requests.Session()
        assert dict(second.headers) == dict(fresh.headers)


def test_oauth1_sessions_are_set_up_the_same_way() -> None:
    blueprint = OAuth1ConsumerBlueprint(
        "prov", __name__, client_key="key", base_url="https://api.example/"
    )
    session = blueprint._make_session()
    assert isinstance(session, OAuth1Session)
    assert _comparable(_requests_part(session)) == _comparable(
        _requests_part(requests.Session())
    )
    assert session.adapters["https://"] is blueprint._shared_adapters()["https://"]


def test_mock_blueprint_gets_requests_own_adapters() -> None:
    session = OAuth2Session(client_id="id", blueprint=mock.Mock())
    assert type(session.adapters["https://"]) is requests.adapters.HTTPAdapter
    assert session.headers["Accept"] == "*/*"


class _CustomSession(OAuth2Session):
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.marker: list[str] = []
        super().__init__(*args, **kwargs)
        self.headers["X-Custom"] = "yes"


def test_custom_session_class_keeps_its_own_set_up() -> None:
    with in_request(session_class=_CustomSession) as (blueprint, _):
        session = blueprint.session
        assert isinstance(session, _CustomSession)
        assert session.marker == []
        assert session.headers["X-Custom"] == "yes"
        assert session.adapters["https://"] is blueprint._shared_adapters()["https://"]
    with in_request(session_class=_CustomSession) as (blueprint, _):
        assert blueprint.session.headers["X-Custom"] == "yes"


def test_a_session_is_freed_without_the_garbage_collector() -> None:
    """A provider session holds no reference cycle: it goes when its request
    ends, not at the next collection (which would cost every page that calls
    the API)."""
    gc.collect()
    gc.disable()
    try:
        with in_request() as (blueprint, _):
            ref = weakref.ref(blueprint.session)
            assert ref() is not None
        assert ref() is None
    finally:
        gc.enable()


def test_token_response_is_still_noted(responses: t.Any) -> None:
    responses.add(
        responses.POST,
        "https://example.com/oauth/access_token",
        json={"error": "invalid_grant"},
        status=400,
    )
    blueprint = make_blueprint()
    session = blueprint._make_session()
    with pytest.raises(InvalidGrantError):
        session.fetch_token(
            "https://example.com/oauth/access_token",
            code="abc",
            client_secret="s",
        )
    assert session._token_response is not None
    assert session._token_response.status_code == 400
