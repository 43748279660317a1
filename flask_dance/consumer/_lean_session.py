"""Speed device: the :class:`requests.Session` part of a provider session,
set up without the two connection pools that ``requests.Session()`` builds
and a provider session drops at once for the pools its blueprint shares.

Those two pools are most of the cost of a new session, and a page that calls
the provider's API builds one session per request. In ``bench/run.py`` on
2026-12-05 the device took api_tls from 1.10 to 1.03 and api_plain from 1.12
to 1.04 (the ratio to a bare :class:`requests.Session`), and the callback
from 1.26 to 1.18.

Nothing of requests is written out here by hand: the attributes and their
values come from one session that requests' own constructor built (the
template), so a requests release that adds, drops or changes an attribute is
followed without a change here. Each new session gets its own copy of every
mutable value. If the template holds a value of a type this module does not
know how to copy, the device stays off and requests' constructor runs as
usual (:func:`set_up` answers ``False``).
"""

from __future__ import annotations

import collections
import threading
import typing as t

import requests
import requests.cookies
import requests.structures

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from requests.adapters import BaseAdapter

_Copier = t.Callable[[t.Any], t.Any]
_Plan = tuple[tuple[str, _Copier, t.Any], ...]

_IMMUTABLE = (bool, int, float, str, bytes, frozenset)


def _same(value: t.Any) -> t.Any:
    return value


def _shallow_dict(value: dict[t.Any, t.Any]) -> dict[t.Any, t.Any]:
    return dict(value)


def _dict_of_lists(value: dict[t.Any, list[t.Any]]) -> dict[t.Any, list[t.Any]]:
    return {key: list(items) for key, items in value.items()}


def _headers(
    value: requests.structures.CaseInsensitiveDict[t.Any],
) -> requests.structures.CaseInsensitiveDict[t.Any]:
    return value.copy()


def _empty_cookie_jar(_: t.Any) -> requests.cookies.RequestsCookieJar:
    return requests.cookies.RequestsCookieJar()


def _immutable(value: t.Any) -> bool:
    return value is None or isinstance(value, _IMMUTABLE)


def copier_for(value: t.Any) -> _Copier | None:
    """How to give a new session its own copy of ``value``, or ``None`` when
    this module does not know how.

    :param value: An attribute of a freshly built :class:`requests.Session`.
    """
    if _immutable(value):
        return _same
    if type(value) is dict:
        if all(_immutable(item) for item in value.values()):
            return _shallow_dict
        if all(
            type(item) is list and all(_immutable(entry) for entry in item)
            for item in value.values()
        ):
            return _dict_of_lists
        return None
    if type(value) is requests.structures.CaseInsensitiveDict and all(
        _immutable(item) for item in value.values()
    ):
        return _headers
    if type(value) is requests.cookies.RequestsCookieJar and not len(value):
        return _empty_cookie_jar
    return None


def make_plan(template: requests.Session) -> _Plan | None:
    """What :func:`set_up` assigns: each attribute of ``template`` but its
    adapters, with how to copy its value; ``None`` if a value cannot be
    copied safely.

    :param template: A session built by :class:`requests.Session` itself.
    """
    plan: list[tuple[str, _Copier, t.Any]] = []
    for name, value in vars(template).items():
        if name == "adapters":
            continue
        copier = copier_for(value)
        if copier is None:
            return None
        plan.append((name, copier, value))
    return tuple(plan)


_plan: _Plan | None = None
_planned = False
_plan_lock = threading.Lock()


def _current_plan() -> _Plan | None:
    global _plan, _planned
    if not _planned:
        with _plan_lock:
            if not _planned:
                template = requests.Session()
                _plan = make_plan(template)
                template.close()
                _planned = True
    return _plan


def set_up(session: requests.Session, adapters: Mapping[str, BaseAdapter]) -> bool:
    """Give ``session`` what ``requests.Session()`` would, except that its
    adapters are ``adapters``. Answers ``False``, and changes nothing, when
    the device is off: the caller then runs requests' own constructor.

    :param session: A session whose :class:`requests.Session` part is not
        set up yet.
    :param adapters: The transport adapters, by URL prefix, in mount order.
    """
    plan = _current_plan()
    if plan is None:
        return False
    for name, copier, value in plan:
        setattr(session, name, copier(value))
    session.adapters = collections.OrderedDict(adapters)
    return True
