"""What the OAuth 1 and OAuth 2 provider sessions share: the blueprint they
belong to, its base URL, its shared connection pools, the view decorator
that sends users without a token to the login, and the filter that keeps
secrets out of the debug logs of the libraries they are built on.

requests-oauthlib logs request bodies, tokens and headers at DEBUG level, and
oauthlib's OAuth 1 client logs signature base strings that contain tokens. A
filter on those loggers, attached when this module is imported, replaces the
arguments of such records with a marker, so that turning on DEBUG logging
never writes a client secret, a token or a PKCE verifier anywhere.
"""

from __future__ import annotations

import collections
import functools
import logging
import typing as t
from collections.abc import Mapping

import flask
import requests
import requests.adapters
import requests.cookies
import requests.structures
from requests_oauthlib import OAuth2Session as _RequestsOAuth2Session

from . import _deadline
from ._transport import DEFAULT_TIMEOUT
from ._urls import join_url

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import AnyBlueprint


_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


UNLOADED: t.Any = object()

#: What the mixins of :class:`~.requests.OAuth2Session` build on: for type
#: checkers, the requests-oauthlib session they are mixed into.
if t.TYPE_CHECKING:  # pragma: no cover
    OAuth2SessionHost = _RequestsOAuth2Session
else:
    OAuth2SessionHost = object


def hook(owner: t.Any, name: str) -> t.Any:
    """``owner``'s attribute ``name`` if its class defines it, else ``None``.

    A session may be built with any blueprint-like object (tests use
    :class:`unittest.mock.Mock`, which makes up every attribute asked for):
    the private hooks of our blueprints and storages are used only when the
    object's class really has them.

    :param owner: A blueprint, storage or anything standing in for one.
    :param name: The attribute.
    """
    if owner is None or getattr(type(owner), name, None) is None:
        return None
    return getattr(owner, name)


def text_attr(owner: t.Any, name: str) -> str | None:
    """``owner``'s attribute ``name`` if it is a string, else ``None``."""
    value = getattr(owner, name, None)
    return value if isinstance(value, str) else None


def timeout_of(blueprint: t.Any) -> t.Any:
    timeout = getattr(blueprint, "timeout", UNLOADED)
    if timeout is None or isinstance(timeout, (int, float, tuple)):
        return timeout
    return DEFAULT_TIMEOUT


def send_request(
    request: t.Callable[..., requests.Response],
    method: str,
    url: str,
    **kwargs: t.Any,
) -> requests.Response:
    """Send a request through ``request``, the :class:`requests.Session`
    part of a provider session. Inside
    :func:`~flask_dance.consumer._deadline.token_endpoint` it is a token-side
    call: sent under a deadline, with no redirect followed, and its answer
    checked (:func:`~flask_dance.consumer._bounded.send_token_side`).

    :param request: The bound ``request`` method that sends it.
    :param method: The HTTP method.
    :param url: The URL, as the session's own ``request`` hands it on.
    :param kwargs: Passed to ``request``.
    """
    kind = _deadline.token_endpoint_kind()
    if kind is None:
        return request(method, url, **kwargs)
    # loaded on the first token-side call (see tests/test_imports.py)
    from . import _bounded

    return _bounded.send_token_side(kind, request, method, url, **kwargs)


def redirect_to_login(blueprint: AnyBlueprint) -> t.Any:
    return flask.redirect(flask.url_for(f"{blueprint.name}.login"))


class SharedPoolInit(requests.Session):
    """Sets up the :class:`requests.Session` part of a provider session on the
    connection pools its blueprint shares, so that a connection outlives the
    request that opened it. It sits between the requests-oauthlib session and
    :class:`requests.Session` in the method resolution order."""

    adapters: collections.OrderedDict[str, requests.adapters.BaseAdapter]

    def __init__(self) -> None:
        super().__init__()
        shared = hook(getattr(self, "blueprint", None), "_shared_adapters")
        if shared is not None:
            self.adapters = collections.OrderedDict(shared())


class BlueprintSessionMixin(requests.Session):
    """What the OAuth 1 and OAuth 2 sessions have in common: they belong to a
    blueprint, resolve paths against its ``base_url``, guard views, and, when
    closed, leave alone the connection pool the blueprint shares with every
    other session."""

    blueprint: t.Any
    base_url: str | None
    #: Whether code assigned the token, rather than it being read from the
    #: blueprint (a request that takes the session over keeps such a token).
    _token_given: bool = False

    def __init__(
        self,
        blueprint: t.Any = None,
        base_url: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        """
        :param blueprint: The blueprint this session belongs to.
        :param base_url: The provider's API root.
        :param args: Passed to the requests-oauthlib session.
        :param kwargs: Passed to the requests-oauthlib session.
        """
        self._flask_dance_token: t.Any = UNLOADED
        # Known before the requests.Session part is set up, which borrows
        # the blueprint's connection pools.
        self.blueprint = blueprint
        super().__init__(*args, **kwargs)
        #: The blueprint this session belongs to.
        self.blueprint = blueprint
        #: The provider's API root; relative request URLs are joined onto it.
        self.base_url = str(base_url) if base_url else None
        self._flask_dance_token = UNLOADED
        self._token_given = False

    @property
    def authorization_required(self) -> t.Callable[[_F], _F]:
        """A view decorator that sends users without a token to the login
        view."""

        def decorator(func: _F) -> _F:
            @functools.wraps(func)
            def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
                # ask the session of this request: ``self`` may be a session
                # built for another request (or none) that holds its token
                if self.blueprint is not None and not self.blueprint.session.authorized:
                    return redirect_to_login(self.blueprint)
                return func(*args, **kwargs)

            return t.cast(_F, wrapper)

        return decorator

    def _absolute(self, url: str | bytes) -> str:
        text = url.decode() if isinstance(url, bytes) else str(url)
        return join_url(self.base_url, text)

    def close(self) -> None:
        """Close the adapters this session owns, not the shared ones."""
        shared: t.Any = {}
        if hook(self.blueprint, "_shared_adapters") is not None:
            shared = self.blueprint._adapters or {}
        shared_ids = {id(adapter) for adapter in shared.values()}
        for adapter in self.adapters.values():
            if id(adapter) not in shared_ids:
                adapter.close()


# -- secrets kept out of the libraries' debug logs ------------------------------

_REDACTED = "[redacted by flask_dance]"

#: Loggers whose DEBUG records may carry secrets.
_LOGGERS = (
    "requests_oauthlib",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
    "requests_oauthlib.oauth2_auth",
    "requests_oauthlib.oauth2_session",
    "oauthlib",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "oauthlib.oauth2.rfc6749.clients.base",
    "oauthlib.oauth2.rfc6749.parameters",
)


class _RedactedMapping(dict[str, str]):
    """Replaces a mapping argument (``log.debug("%s", headers)``): the mapping
    and any key of it print as the marker."""

    def __missing__(self, key: str) -> str:
        return _REDACTED

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__


class _RedactSecrets(logging.Filter):
    """Replace the arguments of debug records, and messages that were
    formatted before logging, with a marker."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            if isinstance(record.args, Mapping):
                record.args = _RedactedMapping({"": _REDACTED})
            elif record.args:
                # numbers (status codes, counts) are kept for ``%d``
                record.args = tuple(
                    arg if isinstance(arg, (int, float)) else _REDACTED
                    for arg in record.args
                )
            elif isinstance(record.msg, str) and ":" in record.msg:
                record.msg = record.msg.split(":", 1)[0] + ": " + _REDACTED
            try:
                record.getMessage()
            except (TypeError, ValueError, KeyError):
                record.msg = str(record.msg).split("%", 1)[0] + _REDACTED
                record.args = ()
        return True


_redact_filter = _RedactSecrets()


def redact_library_logs() -> None:
    """Attach the filter to every logger that needs it (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _redact_filter not in logger.filters:
            logger.addFilter(_redact_filter)


redact_library_logs()
