"""The shared wiring in ``flask_dance.contrib._base``."""

from __future__ import annotations

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
