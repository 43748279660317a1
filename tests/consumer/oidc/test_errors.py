"""The import path that consumer/oidc/errors.py keeps for the OIDC exceptions."""

from __future__ import annotations

import pytest

import flask_dance.consumer.oidc
from flask_dance.consumer import _oidc_errors
from flask_dance.consumer.oidc import errors

NAMES = [
    "AuthorizationResponseError",
    "DiscoveryError",
    "ERROR_CODES",
    "IDTokenError",
    "JWKSError",
    "LogoutError",
    "OIDCError",
    "UserinfoError",
]


@pytest.mark.parametrize("name", NAMES)
def test_each_name_is_the_leaf_modules_own(name: str) -> None:
    value = getattr(_oidc_errors, name)
    assert getattr(errors, name) is value
    if name != "ERROR_CODES":
        assert getattr(flask_dance.consumer.oidc, name) is value


def test_the_module_names_every_exception_of_the_leaf_module() -> None:
    defined = {
        name
        for name, value in vars(_oidc_errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert defined == set(NAMES) - {"ERROR_CODES"}
