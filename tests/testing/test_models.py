"""The local provider's data classes (flask_dance/testing/_models.py)."""

from __future__ import annotations

from flask_dance.testing import AuthorizationResult
from flask_dance.testing import Client
from flask_dance.testing import Faults
from flask_dance.testing import OAuth1Client
from flask_dance.testing import User


def test_reset_restores_defaults() -> None:
    faults = Faults()
    faults.deny_all = True
    faults.status_500_on.add("token")
    faults.delay_on["token"] = 1.0
    faults.id_token_claims["x"] = 1
    faults.id_token_alg = "none"
    faults.reset()
    assert faults == Faults()
    # Mutable defaults are fresh objects, not shared between instances.
    assert faults.status_500_on is not Faults().status_500_on


def test_a_users_subject_is_its_id_unless_given() -> None:
    assert User("octocat", id=7).subject == "7"
    assert User("octocat", id=7, sub="abc").subject == "abc"


def test_a_users_profile_is_shaped_like_githubs() -> None:
    user = User("octocat", name="Mona", email="mona@example.com", id=7)
    assert user.profile() == {
        "id": 7,
        "login": "octocat",
        "name": "Mona",
        "email": "mona@example.com",
    }


def test_a_users_email_list() -> None:
    assert User("a").email_list() == []
    assert User("a", email="a@example.com", email_verified=False).email_list() == [
        {"email": "a@example.com", "primary": True, "verified": False}
    ]
    given = [{"email": "b@example.com", "primary": True, "verified": True}]
    listed = User("b", email="other@example.com", emails=given).email_list()
    assert listed == given
    listed[0]["email"] = "changed"
    assert given[0]["email"] == "b@example.com"


def test_a_client_without_secret_or_keys_is_public() -> None:
    assert Client("c").is_public
    assert not Client("c", client_secret="s").is_public
    assert not Client("c", jwks={"keys": [{"kty": "EC"}]}).is_public


def test_clients_are_shown_by_name_or_id() -> None:
    assert Client("c").display_name == "c"
    assert Client("c", name="Cool App").display_name == "Cool App"
    assert OAuth1Client("key").display_name == "key"
    assert OAuth1Client("key", name="Old App").display_name == "Old App"


def test_an_authorization_result_redirect_uri_drops_what_the_provider_added() -> None:
    result = AuthorizationResult(
        "GET",
        "https://app.example/cb?keep=1&code=c1&state=s1&iss=https%3A%2F%2Fidp",
        {"code": "c1", "state": "s1", "iss": "https://idp"},
    )
    assert result.redirect_uri == "https://app.example/cb?keep=1"
    assert (result.code, result.state, result.error) == ("c1", "s1", None)


def test_a_form_post_result_keeps_its_action() -> None:
    result = AuthorizationResult(
        "POST", "https://app.example/cb", {"error": "access_denied"}
    )
    assert result.redirect_uri == "https://app.example/cb"
    assert (result.code, result.error) == (None, "access_denied")
