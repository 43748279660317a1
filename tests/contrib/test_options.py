"""Provider options that only change the blueprint's settings: each case makes
a blueprint with some options and checks the attributes they set."""

from __future__ import annotations

import importlib
import typing as t

import pytest

CASES: list[tuple[str, dict[str, t.Any], dict[str, t.Any]]] = [
    (
        "atlassian",
        {"reprompt_consent": True},
        {
            "authorization_url_params": {
                "audience": "api.atlassian.com",
                "prompt": "consent",
            }
        },
    ),
    (
        "authentiq",
        {"hostname": "id.example.org"},
        {
            "base_url": "https://id.example.org/",
            "authorization_url": "https://id.example.org/authorize",
            "token_url": "https://id.example.org/token",
        },
    ),
    (
        "azure",
        {"tenant": "contoso.onmicrosoft.com"},
        {
            "authorization_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "token_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "auto_refresh_url": None,
        },
    ),
    (
        "azure",
        {
            "login_hint": "a@example.com",
            "domain_hint": "example.com",
            "prompt": "login",
        },
        {
            "authorization_url_params": {
                "login_hint": "a@example.com",
                "domain_hint": "example.com",
                "prompt": "login",
            }
        },
    ),
    (
        "azure",
        {"scope": ["openid", "offline_access"]},
        {
            "scope": ["openid", "offline_access"],
            "auto_refresh_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        },
    ),
    (
        "azure",
        {"scope": "openid offline_access"},
        {
            "auto_refresh_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        },
    ),
    (
        "digitalocean",
        {"scope": "read,write"},
        {"scope": "read write"},
    ),
    (
        "digitalocean",
        {"scope": ["read", "write"]},
        {"scope": ["read", "write"]},
    ),
    (
        "discord",
        {"prompt": None},
        {"authorization_url_params": {}},
    ),
    (
        "discord",
        {"prompt": "none"},
        {"authorization_url_params": {"prompt": "none"}},
    ),
    (
        "discord",
        {"prompt": "login", "scope": ["identify", "email"]},
        {
            "authorization_url_params": {"prompt": "login"},
            "scope": ["identify", "email"],
        },
    ),
    (
        "dropbox",
        {
            "offline": True,
            "force_reapprove": True,
            "disable_signup": True,
            "require_role": "work",
        },
        {
            "authorization_url_params": {
                "token_access_type": "offline",
                "force_reapprove": "true",
                "disable_signup": "true",
                "require_role": "work",
            },
            "auto_refresh_url": "https://api.dropbox.com/oauth2/token",
        },
    ),
    (
        "dropbox",
        {},
        {"authorization_url_params": {}, "auto_refresh_url": None},
    ),
    (
        "facebook",
        {"rerequest_declined_permissions": True},
        {"authorization_url_params": {"auth_type": "rerequest"}},
    ),
    (
        "gitlab",
        {"hostname": "git.example.org"},
        {
            "base_url": "https://git.example.org/api/v4/",
            "authorization_url": "https://git.example.org/oauth/authorize",
            "token_url": "https://git.example.org/oauth/token",
        },
    ),
    (
        "google",
        {"offline": True},
        {
            "authorization_url_params": {"access_type": "offline"},
            "auto_refresh_url": "https://accounts.google.com/o/oauth2/token",
        },
    ),
    (
        "google",
        {"offline": True, "legacy_endpoints": False},
        {"auto_refresh_url": "https://oauth2.googleapis.com/token"},
    ),
    (
        "google",
        {"reprompt_consent": True, "reprompt_select_account": True},
        {"authorization_url_params": {"prompt": "consent select_account"}},
    ),
    (
        "google",
        {"reprompt_select_account": True, "hosted_domain": "example.com"},
        {"authorization_url_params": {"prompt": "select_account", "hd": "example.com"}},
    ),
    (
        "google",
        {"scope": ["openid", "email"]},
        {"scope": ["openid", "email"], "auto_refresh_url": None},
    ),
    (
        "mastodon",
        {"hostname": "fosstodon.org", "scope": "read:accounts"},
        {
            "base_url": "https://fosstodon.org/",
            "authorization_url": "https://fosstodon.org/oauth/authorize",
            "token_url": "https://fosstodon.org/oauth/token",
            "scope": "read:accounts",
        },
    ),
    (
        "orcid",
        {"sandbox": True},
        {
            "base_url": "https://api.sandbox.orcid.org",
            "authorization_url": "https://sandbox.orcid.org/oauth/authorize",
            "token_url": "https://sandbox.orcid.org/oauth/token",
        },
    ),
    (
        "reddit",
        {"permanent": True},
        {"authorization_url_params": {"duration": "permanent"}},
    ),
    (
        "salesforce",
        {"is_sandbox": True, "reprompt_consent": True},
        {
            "base_url": "https://test.salesforce.com/",
            "authorization_url": "https://test.salesforce.com/services/oauth2/authorize",
            "token_url": "https://test.salesforce.com/services/oauth2/token",
            "authorization_url_params": {"prompt": "consent"},
        },
    ),
    (
        "salesforce",
        {"hostname": "example.my.salesforce.com"},
        {
            "base_url": "https://example.my.salesforce.com/",
            "authorization_url": "https://example.my.salesforce.com/services/oauth2/authorize",
        },
    ),
    (
        "slack",
        {"subdomain": "myteam"},
        {"authorization_url": "https://myteam.slack.com/oauth/authorize"},
    ),
    (
        "slack",
        {"subdomain": "myteam", "v2": True, "user_scope": "identity.basic"},
        {
            "authorization_url": "https://myteam.slack.com/oauth/v2/authorize",
            "scope": None,
            "authorization_url_params": {"user_scope": "identity.basic"},
        },
    ),
    (
        "twitter",
        {"scope": ["tweet.read", "users.read", "offline.access"]},
        {
            "use_pkce": True,
            "code_challenge_method": "S256",
            "auto_refresh_url": "https://api.x.com/2/oauth2/token",
        },
    ),
    (
        "twitter",
        {},
        {"use_pkce": True, "auto_refresh_url": None},
    ),
    (
        "zoho",
        {"offline": True, "reprompt_consent": True},
        {"authorization_url_params": {"access_type": "offline", "prompt": "consent"}},
    ),
]


@pytest.mark.parametrize(
    ("module", "kwargs", "expected"),
    CASES,
    ids=[f"{module}-{'-'.join(kwargs) or 'defaults'}" for module, kwargs, _ in CASES],
)
def test_options(
    module: str, kwargs: dict[str, t.Any], expected: dict[str, t.Any]
) -> None:
    factory = getattr(
        importlib.import_module(f"flask_dance.contrib.{module}"),
        f"make_{module}_blueprint",
    )
    bp = factory("client-id", "client-secret", **kwargs)
    assert {name: getattr(bp, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("module", "kwargs", "message"),
    [
        ("slack", {"v2": True}, "'scope', 'user_scope' or both"),
        ("slack", {"user_scope": ["users:read"]}, "needs 'v2=True'"),
        ("dexcom", {"sandbox": True, "base_url": "https://api.dexcom.eu/"}, "not both"),
        ("zoho", {"region": "mars"}, "Unknown Zoho region 'mars'"),
    ],
)
def test_invalid_options(module: str, kwargs: dict[str, t.Any], message: str) -> None:
    factory = getattr(
        importlib.import_module(f"flask_dance.contrib.{module}"),
        f"make_{module}_blueprint",
    )
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)
