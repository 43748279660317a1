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

#: What the mixins of :class:`~flask_dance.consumer.OAuth2ConsumerBlueprint`
#: may use of the blueprint they are mixed into: its settings and the methods
#: that other mixins or the blueprint itself define. For type checkers only:
#: at run time the mixins derive from :class:`object`, so that no mixin
#: imports the blueprint above it.
if t.TYPE_CHECKING:  # pragma: no cover

    class OAuth2Host:
        """The blueprint's members that its mixins use."""

        name: str
        client: t.Any  # an oauthlib Client, or None
        _client_id: str | None
        client_secret: str | None
        scope: str | list[str] | tuple[str, ...] | None
        state: str | t.Callable[[], str] | None
        authorization_url_params: dict[str, t.Any]
        token_url_params: dict[str, t.Any]
        use_pkce: bool
        code_challenge_method: str
        issuer: str | None
        max_age: int | None
        response_mode: str | None
        post_logout_redirect_uri: str | None
        use_par: bool | None
        dpop: bool | None
        _dpop_nonces: t.Any
        add_url_rule: t.Callable[..., None]
        _stored_token: t.Callable[[], t.Any]

        client_id: str | None
        #: The blueprint's :class:`~.requests.OAuth2Session` of this request.
        session: t.Any
        token: t.Any
        pending_logins: t.Any  # the browser's PendingLogins
        load_config: t.Callable[[], None]
        _refresh_config: t.Callable[..., None]
        _absolute: t.Callable[[str | None], str]
        _endpoint: t.Callable[[str], str]
        _redirect_uri: t.Callable[[], str]
        _login_needs_no_session: t.Callable[[], bool]
        _requested_next_url: t.Callable[[], str | None]
        _default_next_url: t.Callable[[], str]
        _fail: t.Callable[..., t.Any]
        _fail_for: t.Callable[[str, Exception, str], t.Any]
        _no_pending_login: t.Callable[..., t.Any]
        _finish_login: t.Callable[[t.Any, str | None], t.Any]
        _oidc_failure: t.Callable[[Exception], t.Any]
        revoke_token: t.Callable[..., bool]
        _new_dpop_key: t.Callable[[], dict[str, str]]
        _dpop_prover: t.Callable[[t.Any], t.Any]

        @property
        def is_openid(self) -> bool:
            raise NotImplementedError  # pragma: no cover - OpenIDMixin's

else:
    OAuth2Host = object
