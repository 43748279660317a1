"""The shared wiring in ``flask_dance.contrib._base``."""

from __future__ import annotations

import typing as t

import pytest

from flask_dance.contrib import _base
from flask_dance.contrib.github import make_github_blueprint


def test_live_client_credentials_follow_the_blueprint() -> None:
    bp = make_github_blueprint()
    live = _base._LiveClientCredentials(bp)
    assert bool(live)
    assert dict(live) == {}
    assert len(live) == 0
    bp.client_id = "id"
    bp.client_secret = "secret"
    assert dict(live) == {"client_id": "id", "client_secret": "secret"}
    assert len(live) == 2
    assert live.get("client_secret") == "secret"
    merged = {"refresh_token": "r"}
    merged.update(live)
    assert merged == {
        "refresh_token": "r",
        "client_id": "id",
        "client_secret": "secret",
    }
    assert "secret" not in repr(live)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (None, []),
        ("", []),
        ("a b", ["a", "b"]),
        (["a", "b"], ["a", "b"]),
        (("a",), ["a"]),
    ],
)
def test_scope_list(scope: _base.Scope, expected: list[str]) -> None:
    assert _base.scope_list(scope) == expected


def test_preset_docs_orders_parameters_and_rejects_unknown_ones() -> None:
    def make_x_blueprint(client_id: str | None = None, *, hostname: str = "x") -> None:
        """Make X.

        :param hostname: The host.
        """

    _base.preset_docs("x")(make_x_blueprint)
    doc = make_x_blueprint.__doc__ or ""
    assert doc.index(":param client_id:") < doc.index(":param hostname: The host.")
    assert "``X_OAUTH_CLIENT_ID``" in doc
    assert doc.endswith(":return: The blueprint; ``x`` is the proxy to its session.")

    def make_y_blueprint(client_id: str | None = None) -> None:
        """Make Y.

        :param hostnme: A typo.
        """

    with pytest.raises(TypeError, match="hostnme"):
        _base.preset_docs("y")(make_y_blueprint)


def test_root_resolves_endpoints_and_is_the_default_base_url() -> None:
    bp = _base.oauth2_blueprint(
        "x",
        __name__,
        root="https://id.example.com/tenant",
        authorization_url="oauth/authorize",
        token_url="https://token.example.com/token",
    )
    # Paths go under the root, as if it ended with a slash; absolute URLs
    # stay; the base URL is the root as given.
    assert bp.authorization_url == "https://id.example.com/tenant/oauth/authorize"
    assert bp.token_url == "https://token.example.com/token"
    assert bp.base_url == "https://id.example.com/tenant"

    # A base URL given is kept as it is.
    bp = _base.oauth2_blueprint(
        "x", __name__, root="https://id.example.com/", base_url="api.example"
    )
    assert bp.base_url == "api.example"


def test_root_resolves_the_oauth1_token_urls() -> None:
    bp = _base.oauth1_blueprint(
        "x",
        __name__,
        from_config={},
        root="https://server.example.com/app/oauth/",
        base_url="https://server.example.com/app",
        request_token_url="request-token",
        access_token_url="access-token",
        authorization_url="authorize",
    )
    assert bp.request_token_url == "https://server.example.com/app/oauth/request-token"
    assert bp.access_token_url == "https://server.example.com/app/oauth/access-token"
    assert bp.authorization_url == "https://server.example.com/app/oauth/authorize"
    assert bp.base_url == "https://server.example.com/app"


def test_hostname_is_an_https_root() -> None:
    bp = _base.oauth2_blueprint(
        "x", __name__, hostname="id.example.com:8443", token_url="oauth/token"
    )
    assert bp.token_url == "https://id.example.com:8443/oauth/token"
    assert bp.base_url == "https://id.example.com:8443/"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [(None, ["basic"]), ("", ["basic"]), ([], ["basic"]), ("mine", ["mine"])],
)
def test_default_scope_replaces_an_empty_scope(
    scope: _base.Scope, expected: list[str]
) -> None:
    bp = _base.oauth2_blueprint(
        "x", __name__, {"scope": scope}, default_scope=["basic"]
    )
    assert _base.scope_list(bp.scope) == expected


def test_given_drops_only_none() -> None:
    assert _base.given(a="1", b=None, c="") == {"a": "1", "c": ""}
    assert _base.given() == {}


def test_passed_on_and_configured_arguments() -> None:
    factory_args = {"client_id": "id", "max_age": 60, "team_id": None, "other": 1}
    bp = _base.oauth2_blueprint(
        "x",
        __name__,
        factory_args,
        passed_on=("max_age",),
        configured=("team_id",),
        blueprint_class=_TeamBlueprint,
    )
    assert isinstance(bp, _TeamBlueprint)
    assert bp.client_id == "id"
    assert bp.max_age == 60
    assert bp.team_id is None
    assert not hasattr(bp, "other")
    assert bp.from_config == {
        "client_id": "X_OAUTH_CLIENT_ID",
        "client_secret": "X_OAUTH_CLIENT_SECRET",
        "team_id": "X_OAUTH_TEAM_ID",
    }


class _TeamBlueprint(_base.PresetOAuth2Blueprint):
    def __init__(self, *args: t.Any, team_id: str | None = None, **kwargs: t.Any):
        self.team_id = team_id
        super().__init__(*args, **kwargs)
