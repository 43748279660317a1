"""Type aliases shared by the package."""

from __future__ import annotations

import typing as t

#: A token as the provider returned it and the storages keep it.
TokenDict = dict[str, t.Any]

#: What a view function or a signal receiver may return.
ResponseValue = t.Any

#: The blueprint that a storage or a session is handed. Storages and sessions
#: stand below the blueprint classes (they import none of them) and need only
#: a few of a blueprint's attributes, such as ``name`` and ``config``; code
#: written for Flask-Dance 7.1 hands them mock blueprints, and annotates its
#: own storages with :class:`~flask_dance.consumer.base.BaseOAuthConsumerBlueprint`.
#: Typed as :data:`typing.Any`, so that both keep type-checking.
AnyBlueprint: t.TypeAlias = t.Any
