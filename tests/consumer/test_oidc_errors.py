"""The OpenID Connect exceptions of consumer/_oidc_errors.py and their codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import flask_dance
from flask_dance.consumer import _oidc_errors
from flask_dance.consumer._oidc_errors import AuthorizationResponseError
from flask_dance.consumer._oidc_errors import DiscoveryError
from flask_dance.consumer._oidc_errors import ERROR_CODES
from flask_dance.consumer._oidc_errors import IDTokenError
from flask_dance.consumer._oidc_errors import JWKSError
from flask_dance.consumer._oidc_errors import LogoutError
from flask_dance.consumer._oidc_errors import OIDCError
from flask_dance.consumer._oidc_errors import UserinfoError

PACKAGE = Path(flask_dance.__file__).parent
ERROR_CLASSES = (
    OIDCError,
    DiscoveryError,
    JWKSError,
    IDTokenError,
    UserinfoError,
    AuthorizationResponseError,
    LogoutError,
)
_NAMES = "|".join(cls.__name__ for cls in ERROR_CLASSES)
#: A code given as the first argument of one of the classes above.
RAISED_CODE = re.compile(rf"\b(?:{_NAMES})\(\s*\"([a-z_]+)\"")


def raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        codes.update(RAISED_CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_the_message_is_the_description() -> None:
    error = OIDCError("invalid_nonce", "The nonce does not match.")
    assert isinstance(error, ValueError)
    assert str(error) == "The nonce does not match."
    assert error.error == "invalid_nonce"
    assert error.error_description == "The nonce does not match."
    assert repr(error) == "OIDCError('invalid_nonce', 'The nonce does not match.')"


@pytest.mark.parametrize("cls", ERROR_CLASSES[1:])
def test_each_error_is_an_oidc_error(cls: type[OIDCError]) -> None:
    assert issubclass(cls, OIDCError)


def test_the_errors_keep_what_failed() -> None:
    url = "https://idp.example/.well-known/openid-configuration"
    assert DiscoveryError("discovery_failed", "down", url=url).url == url
    assert JWKSError("unknown_kid", "no key").url is None
    assert IDTokenError("missing_claim", "no sub", claim="sub").claim == "sub"
    assert repr(IDTokenError("x", "y")) == "IDTokenError('x', 'y')"


def test_every_code_the_package_raises_is_listed() -> None:
    codes = raised_codes()
    assert len(codes) > 10  # the pattern still finds them
    assert codes <= ERROR_CODES


def test_the_module_imports_nothing_of_the_package() -> None:
    tree = ast.parse(Path(_oidc_errors.__file__).read_text(encoding="utf-8"))
    imported = [
        (node.level, node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    ]
    assert all(
        level == 0 and not module.startswith("flask_dance")
        for level, module in imported
    )
