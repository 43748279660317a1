"""Keep secrets out of the debug logs of the libraries we build on.

requests-oauthlib logs request bodies, tokens and headers at DEBUG level, and
oauthlib's OAuth 1 client logs signature base strings that contain tokens. A
filter on those loggers replaces the arguments of such records with a marker,
so that turning on DEBUG logging never writes a client secret, a token or a
PKCE verifier anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

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


_filter = _RedactSecrets()


def install() -> None:
    """Attach the filter to every logger that needs it (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
