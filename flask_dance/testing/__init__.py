"""A local OAuth 1 / OAuth 2 / OpenID Connect provider for tests and demos.

Needs the ``oidc`` extra (PyJWT and cryptography)::

    from flask_dance.testing import LocalProvider

    with LocalProvider() as provider:
        bp = OAuth2ConsumerBlueprint("local", __name__, **provider.blueprint_kwargs())
"""

from __future__ import annotations

from ._crypto import SigningKey as SigningKey
from ._models import AuthorizationResult as AuthorizationResult
from ._models import Client as Client
from ._models import Faults as Faults
from ._models import OAuth1Client as OAuth1Client
from ._models import RecordedRequest as RecordedRequest
from ._models import User as User
from .provider import default_users as default_users
from .provider import LocalProvider as LocalProvider
