"""Type aliases shared by the package."""

from __future__ import annotations

import typing as t

#: A token as the provider returned it and the storages keep it.
TokenDict = dict[str, t.Any]

#: What a view function or a signal receiver may return.
ResponseValue = t.Any
