"""The signals a consumer blueprint sends, and the way :data:`oauth_error`
is sent so that every receiver shape Flask-Dance accepted keeps working.

Flask-Dance 7.1 sent ``error``, ``error_description`` and ``error_uri`` on
some failures and ``message`` and ``response`` on others, and apps declared
their receivers for the one they met: ``(blueprint, message, response)``,
``(blueprint, error, error_description, error_uri)``, ``(blueprint,
**kwargs)``. Every failure here carries all five values, and each receiver is
given those its signature names (a receiver with ``**kwargs`` gets them all),
so none of them fails with a :exc:`TypeError`.
"""

from __future__ import annotations

import inspect
import typing as t

from blinker import NamedSignal
from blinker import Namespace
from flask import current_app
from flask import has_app_context
from werkzeug.wrappers import Response as _WerkzeugResponse

_signals = Namespace()

#: Sent when a user finished the dance and a token was obtained, before it is
#: stored. Sender: the blueprint. Keyword argument: ``token``. A receiver may
#: return a response, which is sent to the browser and the token is not
#: stored; or ``False``, and the token is not stored.
oauth_authorized: NamedSignal = _signals.signal("oauth-authorized")

#: Sent right before the user is redirected to the provider. Sender: the
#: blueprint. Keyword argument: ``url``, the provider's authorization URL.
oauth_before_login: NamedSignal = _signals.signal("oauth-before-login")

#: Sent when the dance fails. Sender: the blueprint. Keyword arguments, on
#: every failure of OAuth 1 and OAuth 2: ``error`` (an error code such as
#: ``"access_denied"``, or the exception when a token could not be stored),
#: ``error_description``, ``error_uri``, ``message`` (a sentence for humans)
#: and ``response`` (the provider's :class:`requests.Response`, or ``None``).
#: Each receiver gets the ones its signature names. A receiver may return a
#: response, which is sent to the browser instead of the default one.
oauth_error: NamedSignal = _signals.signal("oauth-error")

#: Sent when refreshing a token failed for good (the provider answered
#: ``invalid_grant``) and the stored token was deleted. Sender: the blueprint.
#: Keyword arguments: ``error`` (the exception) and ``token`` (the old token).
#: Connect to it to send the user back to the login page.
oauth_refresh_failed: NamedSignal = _signals.signal("oauth-refresh-failed")

#: Sent when a user was logged out by the provider (OpenID Connect
#: Back-Channel Logout). Sender: the blueprint. Keyword arguments: ``claims``
#: and ``user_request``. When the provider's logout token arrives, ``claims``
#: are its claims (``iss``, ``sub`` and/or ``sid``) and ``user_request`` is
#: ``False``: there is no user's session at hand, so end server-side sessions
#: matching ``(iss, sub)``. When a user's own request then finds its token
#: dropped, ``claims`` are the id_token claims of that token and
#: ``user_request`` is ``True``: call Flask-Login's ``logout_user()`` there.
oauth_backchannel_logout: NamedSignal = _signals.signal("oauth-backchannel-logout")


def is_response(value: t.Any) -> bool:
    """Whether a receiver returned a response to send to the browser.

    :param value: What the receiver returned.
    """
    if isinstance(value, _WerkzeugResponse):
        return True
    return has_app_context() and isinstance(value, current_app.response_class)


def _accepted(receiver: t.Any, kwargs: dict[str, t.Any]) -> dict[str, t.Any]:
    """The part of ``kwargs`` that ``receiver`` can take after the sender:
    all of it for a receiver with ``**kwargs`` or whose signature can not be
    read, else the names it declares (other than the sender's)."""
    try:
        parameters = list(inspect.signature(receiver).parameters.values())
    except (TypeError, ValueError):
        return kwargs
    names: set[str] = set()
    sender_taken = False
    for parameter in parameters:
        kind = parameter.kind
        if kind is parameter.VAR_KEYWORD:
            return kwargs
        if kind is parameter.VAR_POSITIONAL:
            sender_taken = True
        elif kind is parameter.POSITIONAL_ONLY:
            sender_taken = True
        elif kind is parameter.POSITIONAL_OR_KEYWORD and not sender_taken:
            sender_taken = True  # this one receives the sender
        elif kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            names.add(parameter.name)
    return {key: value for key, value in kwargs.items() if key in names}


def send_compatible(
    signal: NamedSignal, sender: t.Any, **kwargs: t.Any
) -> list[tuple[t.Any, t.Any]]:
    """Send ``signal`` as :meth:`blinker.Signal.send` does, except that each
    receiver is given only the keyword arguments its signature accepts.

    :param signal: The signal.
    :param sender: The sender, passed positionally.
    :param kwargs: The keyword arguments.
    :return: ``(receiver, return value)`` pairs, as blinker gives them.
    """
    if getattr(signal, "is_muted", False):
        return []
    results: list[tuple[t.Any, t.Any]] = []
    for receiver in signal.receivers_for(sender):
        if inspect.iscoroutinefunction(receiver):
            raise RuntimeError("Cannot send to a coroutine function.")
        results.append((receiver, receiver(sender, **_accepted(receiver, kwargs))))
    return results


def send_oauth_error(
    sender: t.Any,
    *,
    error: t.Any,
    error_description: str | None = None,
    error_uri: str | None = None,
    message: str | None = None,
    response: t.Any = None,
) -> t.Any:
    """Send :data:`oauth_error` with all five values and return the first
    response a receiver returned, or ``None``.

    :param sender: The blueprint.
    :param error: An error code, or the exception.
    :param error_description: What went wrong, from the provider or ours.
    :param error_uri: The provider's page about the error.
    :param message: A sentence for humans; default ``error_description``,
        else ``error``.
    :param response: The provider's HTTP response, if there was one.
    """
    if message is None:
        message = error_description if error_description else str(error)
    results = send_compatible(
        oauth_error,
        sender,
        error=error,
        error_description=error_description,
        error_uri=error_uri,
        message=message,
        response=response,
    )
    for _, value in results:
        if is_response(value):
            return value
    return None
