"""Our own messages for mistakes in an app's setup, each naming its fix.

The login views call :func:`check_credentials` before sending anyone to the
provider, and turn oauthlib's ``InsecureTransportError`` into ours with
:func:`refuse_insecure_transport`. The message goes where the developer
looks: when the app propagates exceptions (debug mode, or testing) it is
raised, so the debugger or the test shows it; otherwise the user gets an
HTTP 500 page that says it, and the log has it too.
"""

from __future__ import annotations

import logging
import typing as t

from flask import current_app
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2.rfc6749.utils import is_secure_transport
from werkzeug.exceptions import InternalServerError

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint

log: logging.Logger = logging.getLogger(__name__)

#: The environment variable that lets oauthlib use plain HTTP.
INSECURE_TRANSPORT_VAR = "OAUTHLIB_INSECURE_TRANSPORT"


_NAMES = {
    "client_id": "client ID",
    "client_key": "client key",
    "client_secret": "client secret",
}


class SetupError(RuntimeError):
    """A mistake in the app's Flask-Dance setup, found while handling a
    request; its message says how to fix it."""


class InsecureTransportSetupError(InsecureTransportError):
    """Plain HTTP without ``OAUTHLIB_INSECURE_TRANSPORT``: still an
    ``InsecureTransportError``, as in Flask-Dance 7.1, with our message.

    :param message: What is wrong and what to do.
    """

    def __init__(self, message: str) -> None:
        super().__init__(description=message)

    def __str__(self) -> str:
        return str(self.description)


class SetupErrorPage(InternalServerError):
    """The HTTP 500 that shows a setup mistake's message to the browser."""


def _propagates() -> bool:
    config = current_app.config.get("PROPAGATE_EXCEPTIONS")
    if config is None:
        return bool(current_app.testing or current_app.debug)
    return bool(config)


def _refuse(error: Exception, message: str) -> t.NoReturn:
    log.error("%s", message)
    if _propagates():
        raise error
    raise SetupErrorPage(description=message) from error


def config_key(bp: AnyBlueprint, *attrs: str) -> str | None:
    """The config key :attr:`~BaseOAuthConsumerBlueprint.from_config` reads
    for the first of ``attrs`` it maps (directly or through the session).

    :param bp: The blueprint.
    :param attrs: Attribute names, such as ``"client_id"``.
    """
    for attr in attrs:
        key: str | None = bp.from_config.get(attr) or bp.from_config.get(
            f"session.{attr}"
        )
        if key:
            return key
    return None


def _factory(bp: AnyBlueprint) -> str:
    """How the app made ``bp``: ``make_github_blueprint()`` for a preset."""
    package, _, module = bp.import_name.rpartition(".")
    if package == "flask_dance.contrib" and not module.startswith("_"):
        return f"make_{module}_blueprint()"
    return type(bp).__name__ + "(...)"


def _credentials_fix(bp: AnyBlueprint, missing: list[str]) -> str:
    keys = [config_key(bp, attr, attr.replace("key", "id")) for attr in missing]
    args = " and ".join(f"{attr}=" for attr in missing)
    if all(keys):
        names = " and ".join(t.cast(list[str], keys))
        return (
            f"Set {names} in app.config (the values the provider gave you when"
            f" you registered your app), or pass {args} to {_factory(bp)}."
        )
    return f"Pass {args} to {_factory(bp)}."


def check_credentials(bp: AnyBlueprint) -> None:
    """Refuse to start a login without a client ID (or, for OAuth 1, without
    a client secret or RSA key), naming the config keys that would set them;
    warn about a missing OAuth 2 client secret that a config key should set.

    In a testing app, a missing client ID is only logged, and the login goes
    on as in Flask-Dance 7.1, which tests may rely on.

    :param bp: The blueprint, with its configuration applied.
    :raises SetupError: If the provider could not know the app.
    """
    oauth1 = hasattr(bp, "client_key")
    id_attr = "client_key" if oauth1 else "client_id"
    has_id = bool(getattr(bp, id_attr, None))
    secret = getattr(bp, "client_secret", None) or getattr(bp, "rsa_key", None)
    missing = [] if has_id else [id_attr]
    if not secret and (oauth1 or not has_id):
        missing.append("client_secret")
    if missing:
        what = " and ".join(_NAMES[name] for name in missing)
        message = (
            f"Flask-Dance: the {bp.name!r} blueprint has no {what}, so the"
            f" provider cannot know your app. {_credentials_fix(bp, missing)}"
        )
        if current_app.testing:
            log.warning("%s", message)
            return
        _refuse(SetupError(message), message)
    secret_key = None if secret else config_key(bp, "client_secret")
    if secret_key:
        log.warning(
            "The %r blueprint has no client secret: set %s in app.config, unless"
            " the provider registered your app as a public client.",
            bp.name,
            secret_key,
        )


def check_issuer_transport(bp: AnyBlueprint) -> None:
    """Refuse a plain-HTTP OpenID Connect issuer without
    ``OAUTHLIB_INSECURE_TRANSPORT`` before discovery fails on it: the login
    would otherwise end in ``oauth_error`` and a redirect, which an app that
    sends logged-out users to the login turns into a redirect loop.

    :param bp: The blueprint.
    """
    issuer = getattr(bp, "issuer", None)
    if isinstance(issuer, str) and not is_secure_transport(issuer):
        cause = InsecureTransportError()
        refuse_insecure_transport(f"the issuer {issuer!r}", cause)


def refuse_insecure_transport(what: str, cause: Exception) -> t.NoReturn:
    """Replace oauthlib's ``InsecureTransportError`` with one that names
    the fix.

    :param what: The URL refused, described, such as ``"the token URL ..."``.
    :param cause: oauthlib's error.
    """
    message = (
        f"Flask-Dance: {what} uses plain HTTP, which OAuth forbids: codes and"
        " tokens would travel unencrypted. Use https URLs. For local development"
        f" only (never in production), set the environment variable"
        f" {INSECURE_TRANSPORT_VAR}=1 before starting the app to allow http."
    )
    error = InsecureTransportSetupError(message)
    error.__cause__ = cause
    _refuse(error, message)
