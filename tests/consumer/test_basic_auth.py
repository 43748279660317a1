"""The client_secret_basic builder of consumer/_basic_auth.py."""

from __future__ import annotations

import base64

import pytest
import requests

from flask_dance.consumer._basic_auth import basic_header
from flask_dance.consumer._basic_auth import BasicAuth
from flask_dance.consumer._basic_auth import ClientAuthError


def decoded(header: str) -> str:
    scheme, _, value = header.partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode("utf-8")


#: A client ID and secret, and the pair that the header encodes.
ENCODED = {
    ("client", "secret"): "client:secret",
    ("id:1", "a b%:"): "id%3A1:a+b%25%3A",
    ("é/+", "&=?"): "%C3%A9%2F%2B:%26%3D%3F",
}


@pytest.mark.parametrize(("client_id", "secret"), list(ENCODED))
def test_both_parts_are_form_urlencoded_before_encoding(
    client_id: str, secret: str
) -> None:
    pair = ENCODED[client_id, secret]
    assert decoded(basic_header(client_id, secret)) == pair


def test_the_auth_sets_the_header_on_a_request() -> None:
    request = requests.Request("POST", "https://as.example/token").prepare()
    BasicAuth("id:1", "a b")(request)
    assert request.headers["Authorization"] == basic_header("id:1", "a b")


def test_auths_of_one_client_are_equal_and_hash_alike() -> None:
    first, second = BasicAuth("c", "s"), BasicAuth("c", "s")
    assert first == second
    assert hash(first) == hash(second)
    assert first != BasicAuth("c", "other")
    assert first != basic_header("c", "s")


def test_the_repr_does_not_show_the_secret() -> None:
    assert repr(BasicAuth("client", "hunter2")) == "<client_secret_basic>"


def test_the_client_auth_error_is_a_value_error() -> None:
    assert issubclass(ClientAuthError, ValueError)
