"""The older argument names of Flask-Dance's first releases, which the OAuth 2
blueprint still accepts, with a :class:`DeprecationWarning`."""

from __future__ import annotations

import typing as t
import warnings

#: Older spellings of constructor arguments, from Flask-Dance's first
#: releases, and what they are called now.
RENAMED_ARGUMENTS = {
    "client_key": "client_id",
    "access_token_url": "token_url",
    "authorize_url": "authorization_url",
}

#: The old name of ``scope`` and ``authorization_url_params`` together.
REQUEST_TOKEN_PARAMS = "request_token_params"


def pop_renamed(kwargs: dict[str, t.Any]) -> dict[str, t.Any]:
    """Take the old names out of a constructor's ``kwargs``.

    :param kwargs: The keyword arguments the constructor did not name.
    """
    names = [*RENAMED_ARGUMENTS, REQUEST_TOKEN_PARAMS]
    return {old: kwargs.pop(old) for old in names if old in kwargs}


def apply_renamed(blueprint: t.Any, renamed: dict[str, t.Any]) -> None:
    """Set what the old names gave, under their new names, and warn.

    :param blueprint: The OAuth 2 blueprint being built.
    :param renamed: What :func:`pop_renamed` took.
    """
    request_token_params = renamed.pop(REQUEST_TOKEN_PARAMS, None)
    for old, value in renamed.items():
        new = RENAMED_ARGUMENTS[old]
        warnings.warn(
            f"'{old}' is the old name of '{new}'; use '{new}'.",
            DeprecationWarning,
            stacklevel=4,
        )
        if new == "client_id":
            blueprint._client_id = value
        else:
            setattr(blueprint, new, value)
    if request_token_params is not None:
        warnings.warn(
            "'request_token_params' is the old way to pass them; use 'scope'"
            " and 'authorization_url_params'.",
            DeprecationWarning,
            stacklevel=4,
        )
        params = dict(request_token_params)
        if "scope" in params:
            blueprint.scope = params.pop("scope")
        blueprint.authorization_url_params.update(params)
