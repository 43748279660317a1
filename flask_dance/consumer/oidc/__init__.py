"""OpenID Connect relying-party building blocks.

Needs the ``oidc`` extra (PyJWT and cryptography); importing this package
without them raises an :exc:`ImportError` that says how to install them.
"""

from __future__ import annotations

from ._deps import require_oidc_dependencies as require_oidc_dependencies
from .caches import clear_caches as clear_caches
from .callback import (
    check_authorization_response_iss as check_authorization_response_iss,
)
from .client_auth import APPLE_AUDIENCE as APPLE_AUDIENCE
from .client_auth import AppleClientSecret as AppleClientSecret
from .client_auth import client_assertion_params as client_assertion_params
from .client_auth import CLIENT_ASSERTION_TYPE as CLIENT_ASSERTION_TYPE
from .client_auth import client_secret_basic_header as client_secret_basic_header
from .client_auth import ClientSecretBasic as ClientSecretBasic
from .client_auth import make_apple_client_secret as make_apple_client_secret
from .client_auth import make_client_assertion as make_client_assertion
from .discovery import discovery_urls as discovery_urls
from .discovery import DiscoveryCache as DiscoveryCache
from .discovery import fetch_provider_metadata as fetch_provider_metadata
from .discovery import get_provider_metadata as get_provider_metadata
from .discovery import ProviderMetadata as ProviderMetadata
from .errors import AuthorizationResponseError as AuthorizationResponseError
from .errors import DiscoveryError as DiscoveryError
from .errors import IDTokenError as IDTokenError
from .errors import JWKSError as JWKSError
from .errors import LogoutError as LogoutError
from .errors import OIDCError as OIDCError
from .errors import UserinfoError as UserinfoError
from .id_token import check_refreshed_id_token as check_refreshed_id_token
from .id_token import check_userinfo as check_userinfo
from .id_token import DEFAULT_ALLOWED_ALGS as DEFAULT_ALLOWED_ALGS
from .id_token import identity_key as identity_key
from .id_token import token_hash as token_hash
from .id_token import TokenChecks as TokenChecks
from .id_token import validate_id_token as validate_id_token
from .jwks import fetch_jwks as fetch_jwks
from .jwks import get_jwks_cache as get_jwks_cache
from .jwks import JWKSCache as JWKSCache
from .jwks import KeyResolver as KeyResolver
from .jwks import StaticJWKS as StaticJWKS
from .logout import build_end_session_url as build_end_session_url
from .logout import check_logout_state as check_logout_state
from .logout import new_logout_state as new_logout_state
from .logout import validate_logout_token as validate_logout_token
