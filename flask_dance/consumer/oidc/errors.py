"""Exceptions raised by the OpenID Connect building blocks.

They are defined in a leaf module of the consumer package, which loads
without the ``oidc`` extra; this module keeps their import path.
"""

from __future__ import annotations

from .._oidc_errors import AuthorizationResponseError as AuthorizationResponseError
from .._oidc_errors import DiscoveryError as DiscoveryError
from .._oidc_errors import ERROR_CODES as ERROR_CODES
from .._oidc_errors import IDTokenError as IDTokenError
from .._oidc_errors import JWKSError as JWKSError
from .._oidc_errors import LogoutError as LogoutError
from .._oidc_errors import OIDCError as OIDCError
from .._oidc_errors import UserinfoError as UserinfoError
