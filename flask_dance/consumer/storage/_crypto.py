"""Encryption of stored tokens with Fernet, switched on by one config value.

When the app's ``FLASK_DANCE_TOKEN_KEYS`` lists one or more Fernet keys,
:class:`~flask_dance.consumer.storage.session.SessionStorage` and
:class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage` store each
token as ``{"_fd_enc": "<Fernet token>"}`` instead of the token itself. The
first key encrypts; every key decrypts, so keys can be rotated. A stored
plaintext token stays readable and is encrypted on its next write.

Each token is sealed together with what it belongs to: its provider, and for
:class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage` its user. A
sealed token read for another provider or user (a ciphertext copied from one
database row into another) counts as no token. Tokens sealed before this
binding existed stay readable.

Needs ``cryptography`` (the ``crypto`` or ``oidc`` extra), imported only when
keys are configured. The storages import this module itself only then, or
when they read a sealed token (see :mod:`._sealing`); what recognizes a sealed
token is in :mod:`._envelope`.
"""

from __future__ import annotations

import functools
import json
import logging
import typing as t
from collections.abc import Mapping

from .._request_local import app_context
from ._envelope import binding_of as binding_of
from ._envelope import CONFIG_KEY as CONFIG_KEY
from ._envelope import ENVELOPE_KEY as ENVELOPE_KEY
from ._envelope import is_sealed as is_sealed

if t.TYPE_CHECKING:  # pragma: no cover
    from cryptography.fernet import MultiFernet

    from ..._typing import TokenDict

log: logging.Logger = logging.getLogger(__name__)

#: Inside the envelope of a bound token: the token, and what it belongs to.
_TOKEN_FIELD = "_fd_token"
_BINDING_FIELD = "_fd_bind"

_missing_msg = (
    "Encrypting stored tokens ('FLASK_DANCE_TOKEN_KEYS' is set) needs the"
    " 'cryptography' package. Install the 'crypto' extra (the 'oidc' extra"
    " includes it too): pip install Flask-Dance[crypto]"
)

_bad_key_msg = (
    "Key number {number} in 'FLASK_DANCE_TOKEN_KEYS' is not a Fernet key ({why})."
    " Generate one with: python -c 'from cryptography.fernet import Fernet;"
    " print(Fernet.generate_key().decode())'"
)


def parse_keys(value: t.Any) -> tuple[bytes, ...]:
    """Return the keys a ``FLASK_DANCE_TOKEN_KEYS`` value lists, in order.

    :param value: ``None``, a string of comma-separated keys, bytes, or a
        list of strings or bytes. Blank entries are skipped.
    :raises TypeError: for any other type.
    """
    if value is None:
        return ()
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        items: list[t.Any] = list(value.split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise TypeError(
            f"'{CONFIG_KEY}' must be a list of Fernet keys or a comma-separated"
            f" string of them, not {type(value).__name__!r}."
        )
    keys: list[bytes] = []
    for item in items:
        if isinstance(item, str):
            item = item.encode("ascii", "replace")
        if not isinstance(item, bytes):
            raise TypeError(
                f"Each key in '{CONFIG_KEY}' must be a string or bytes, not"
                f" {type(item).__name__!r}."
            )
        item = item.strip()
        if item:
            keys.append(item)
    return tuple(keys)


def _import_fernet() -> tuple[type[t.Any], type[t.Any], type[Exception]]:
    try:
        from cryptography.fernet import Fernet
        from cryptography.fernet import InvalidToken
        from cryptography.fernet import MultiFernet
    except ImportError as exc:
        raise ImportError(_missing_msg) from exc
    return Fernet, MultiFernet, InvalidToken


class TokenCodec:
    """Encrypts tokens with the first of several Fernet keys and decrypts
    them with any of them.

    .. code-block:: python

        codec = TokenCodec([new_key, old_key])
        stored = codec.seal({"access_token": "..."})  # {"_fd_enc": "gAAAA..."}
        codec.unseal(stored)  # {"access_token": "..."}
    """

    def __init__(self, keys: t.Sequence[str | bytes]) -> None:
        """
        :param keys: Fernet keys, urlsafe base64 of 32 bytes each, as
            ``Fernet.generate_key()`` makes them. The first one encrypts.
        :raises ValueError: no key, or a key that is not a Fernet key.
        :raises ImportError: ``cryptography`` is not installed.
        """
        parsed = parse_keys(list(keys))
        if not parsed:
            raise ValueError(f"'{CONFIG_KEY}' lists no key.")
        fernet_cls, multi_cls, invalid = _import_fernet()
        fernets = []
        for number, key in enumerate(parsed, start=1):
            try:
                fernets.append(fernet_cls(key))
            except (ValueError, TypeError):
                # The message never includes the key itself.
                why = "not urlsafe base64 of 32 bytes"
                raise ValueError(_bad_key_msg.format(number=number, why=why)) from None
        self._fernet: MultiFernet = multi_cls(fernets)
        self._invalid = invalid
        #: How many keys the codec knows.
        self.key_count = len(fernets)

    def seal(
        self, token: Mapping[str, t.Any], *, binding: str | None = None
    ) -> dict[str, str]:
        """Return the stored form of ``token``, encrypted with the first key.

        :param token: The token; it must be JSON-serializable.
        :param binding: What the token belongs to, such as a provider and a
            user, sealed with it and checked by :meth:`unseal`.
        """
        payload: dict[str, t.Any] = dict(token)
        if binding is not None:
            payload = {_TOKEN_FIELD: payload, _BINDING_FIELD: binding}
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return {ENVELOPE_KEY: self._fernet.encrypt(data).decode("ascii")}

    def unseal(
        self, stored: Mapping[str, t.Any], *, binding: str | None = None
    ) -> TokenDict:
        """Return the token that :meth:`seal` encrypted into ``stored``.

        :param stored: An envelope, as :func:`is_sealed` recognizes it.
        :param binding: What the token must belong to. A token sealed with
            another binding is refused; one sealed without any is accepted.
        :raises InvalidTokenError: no configured key decrypts it, or what
            it holds is not a JSON object.
        :raises BindingMismatchError: it was sealed for something else.
        """
        try:
            data = self._fernet.decrypt(str(stored[ENVELOPE_KEY]).encode("ascii"))
            token = json.loads(data)
        except (self._invalid, UnicodeError, ValueError, RecursionError):
            raise InvalidTokenError() from None
        if not isinstance(token, dict):
            raise InvalidTokenError()
        if _TOKEN_FIELD in token and _BINDING_FIELD in token:
            sealed_for, token = token[_BINDING_FIELD], token[_TOKEN_FIELD]
            if not isinstance(token, dict):
                raise InvalidTokenError()
            if binding is not None and sealed_for != binding:
                raise BindingMismatchError()
        return token


class InvalidTokenError(ValueError):
    """A stored token could not be decrypted with the configured keys."""

    def __init__(self) -> None:
        super().__init__(
            "The stored token cannot be decrypted with any key in"
            f" '{CONFIG_KEY}'; it was encrypted with a key no longer listed."
        )


class BindingMismatchError(InvalidTokenError):
    """A stored token was sealed for another provider or user."""

    def __init__(self) -> None:
        ValueError.__init__(
            self,
            "The stored token was sealed for another provider or user; it was"
            " copied from elsewhere.",
        )


@functools.lru_cache(maxsize=8)
def _codec_for_keys(keys: tuple[bytes, ...]) -> TokenCodec:
    return TokenCodec(keys)


def codec_from_config(config: Mapping[str, t.Any]) -> TokenCodec | None:
    """The codec that ``config`` asks for, or ``None`` when encryption is off.

    Codecs are cached by their keys, so calling this on every request is
    cheap.

    :param config: An app's configuration.
    :raises ValueError: a configured key is not a Fernet key.
    :raises ImportError: keys are configured but ``cryptography`` is missing.
    """
    keys = parse_keys(config.get(CONFIG_KEY))
    if not keys:
        return None
    return _codec_for_keys(keys)


def current_codec() -> TokenCodec | None:
    """The codec of the current app, or ``None`` when encryption is off or
    there is no app context."""
    app_ctx = app_context()
    if app_ctx is None:
        return None
    return codec_from_config(app_ctx.app.config)


def seal(token: TokenDict, binding: str | None = None) -> t.Any:
    """Return what a storage should write for ``token``: the token itself
    when encryption is off, else its encrypted envelope.

    :param token: The token to store.
    :param binding: What the token belongs to, from :func:`binding_of`.
    """
    codec = current_codec()
    if codec is None or not isinstance(token, Mapping):
        return token
    return codec.seal(token, binding=binding)


def unseal(stored: t.Any, name: str, binding: str | None = None) -> t.Any:
    """Return the token that a storage read, decrypted when it is sealed.

    A plaintext token is returned as it is. A sealed token that cannot be
    decrypted (its key is no longer configured, or no key is), or that was
    sealed for another binding, is logged as a warning and read as no token.

    :param stored: What the storage read.
    :param name: The blueprint's name, for the warning.
    :param binding: What the token must belong to, from :func:`binding_of`.
    """
    if not is_sealed(stored):
        return stored
    codec = current_codec()
    if codec is None:
        log.warning(
            "Ignoring the stored %r token: it is encrypted, and '%s' is not set.",
            name,
            CONFIG_KEY,
        )
        return None
    try:
        return codec.unseal(stored, binding=binding)
    except BindingMismatchError:
        log.warning(
            "Ignoring the stored %r token: it was sealed for another provider or"
            " user (copied from another row?).",
            name,
        )
        return None
    except InvalidTokenError:
        log.warning(
            "Ignoring the stored %r token: no key in '%s' decrypts it (it was"
            " encrypted with a key that is no longer listed).",
            name,
            CONFIG_KEY,
        )
        return None
