"""The OAuth 2 consumer blueprint."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import secrets
import time
import typing as t
import warnings

import flask
import requests
from oauthlib.common import generate_token
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import MissingCodeError
from oauthlib.oauth2 import OAuth2Error
from werkzeug.wrappers import Response

from ._pending import DEFAULT_TTL
from ._pending import PendingLogin
from ._urls import join_url
from .base import DEFAULT_TIMEOUT
from .base import BaseOAuthConsumerBlueprint
from .base import oauth_before_login
from .requests import OAuth2Session

if t.TYPE_CHECKING:  # pragma: no cover
    from oauthlib.oauth2 import Client

    from .storage import BaseStorage

log = logging.getLogger(__name__)

#: The PKCE code challenge methods this blueprint accepts. ``plain`` is
#: refused: it protects nothing the state does not (RFC 9700 2.1.1).
_CHALLENGE_METHODS = ("S256",)

_MISSING_CODE_MESSAGE = (
    "The redirect request did not contain the expected parameters."
    " Instead I got: {}"
)

#: Older spellings of constructor arguments, from Flask-Dance's first
#: releases, and what they are called now.
_RENAMED_ARGUMENTS = {
    "client_key": "client_id",
    "access_token_url": "token_url",
    "authorize_url": "authorization_url",
}


def make_code_verifier() -> str:
    """Return a fresh PKCE code verifier: 64 characters from the unreserved
    set, about 380 bits of entropy (RFC 7636 4.1)."""
    return secrets.token_urlsafe(48)


def make_code_challenge(verifier: str) -> str:
    """Return the S256 code challenge of ``verifier`` (RFC 7636 4.2).

    :param verifier: A code verifier.
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuth2ConsumerBlueprint(BaseOAuthConsumerBlueprint):
    """A blueprint that signs users in with an OAuth 2 provider and gives the
    app a :class:`requests.Session` to call the provider's API with their
    token.

    Register it on the app; its ``login`` view starts the dance and its
    ``authorized`` view finishes it. Each login uses a fresh state and PKCE
    (S256), remembered in the user's session until the provider sends the user
    back; several logins may be pending at once.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        client: Client | None = None,
        auto_refresh_url: str | None = None,
        auto_refresh_kwargs: dict[str, t.Any] | None = None,
        scope: str | list[str] | tuple[str, ...] | None = None,
        state: str | t.Callable[[], str] | None = None,
        static_folder: str | None = None,
        static_url_path: str | None = None,
        template_folder: str | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        login_url: str | None = None,
        authorized_url: str | None = None,
        base_url: str | None = None,
        authorization_url: str | None = None,
        authorization_url_params: dict[str, t.Any] | None = None,
        token_url: str | None = None,
        token_url_params: dict[str, t.Any] | None = None,
        redirect_url: str | None = None,
        redirect_to: str | None = None,
        session_class: type[OAuth2Session] | None = None,
        storage: BaseStorage | t.Callable[[], BaseStorage] | None = None,
        rule_kwargs: dict[str, t.Any] | None = None,
        use_pkce: bool = True,
        code_challenge_method: str = "S256",
        redirect_uri: str | None = None,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        pending_login_ttl: float = DEFAULT_TTL,
        **kwargs: t.Any,
    ) -> None:
        """
        :param name: The blueprint's name.
        :param import_name: The import name, usually ``__name__``.
        :param client_id: The client ID from the provider.
        :param client_secret: The client secret from the provider.
        :param client: An :class:`oauthlib.oauth2.Client` to use instead of a
            :class:`~oauthlib.oauth2.WebApplicationClient`. Each session gets
            its own copy.
        :param auto_refresh_url: Where to refresh tokens; default
            ``token_url``.
        :param auto_refresh_kwargs: Extra fields for the refresh request body.
        :param scope: The scope to ask for.
        :param state: A callable returning a state, or a fixed state (a fixed
            state is still single-use, but predictable: only for tests).
        :param static_folder: Passed to :class:`flask.Blueprint`.
        :param static_url_path: Passed to :class:`flask.Blueprint`.
        :param template_folder: Passed to :class:`flask.Blueprint`.
        :param url_prefix: Passed to :class:`flask.Blueprint`.
        :param subdomain: Passed to :class:`flask.Blueprint`.
        :param url_defaults: Passed to :class:`flask.Blueprint`.
        :param root_path: Passed to :class:`flask.Blueprint`.
        :param login_url: The rule of the login view; default ``/{bp.name}``.
        :param authorized_url: The rule of the callback view; default
            ``/{bp.name}/authorized``.
        :param base_url: The provider's API root. Relative request URLs,
            ``authorization_url`` and ``token_url`` are resolved against it.
        :param authorization_url: The provider's authorization endpoint.
        :param authorization_url_params: Extra query parameters for it.
        :param token_url: The provider's token endpoint.
        :param token_url_params: Extra arguments for
            :meth:`~requests_oauthlib.OAuth2Session.fetch_token`.
        :param redirect_url: Where to send the user after logging in.
        :param redirect_to: An endpoint to send the user to after logging in,
            used when ``redirect_url`` is not set. Default: ``/``.
        :param session_class: The session class; default
            :class:`~flask_dance.consumer.requests.OAuth2Session`.
        :param storage: The token storage; default
            :class:`~flask_dance.consumer.storage.session.SessionStorage`.
        :param rule_kwargs: Extra keyword arguments for both URL rules.
        :param use_pkce: Use PKCE (RFC 7636). On by default.
        :param code_challenge_method: Only ``"S256"`` is accepted.
        :param redirect_uri: The absolute callback URL to register with the
            provider and send to it. Default: built with
            :func:`flask.url_for` from the request (set ``SERVER_NAME`` or
            this when the app runs behind a proxy).
        :param timeout: Timeout, in seconds, of every request to the provider.
        :param pending_login_ttl: How long, in seconds, a started login may
            take before its callback is refused.
        :param kwargs: Passed to ``session_class``. The older spellings
            ``client_key``, ``access_token_url``, ``authorize_url`` and
            ``request_token_params`` are accepted with a
            :class:`DeprecationWarning`.
        """
        renamed = {
            old: kwargs.pop(old) for old in list(_RENAMED_ARGUMENTS) if old in kwargs
        }
        request_token_params = kwargs.pop("request_token_params", None)
        super().__init__(
            name,
            import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            url_prefix=url_prefix,
            subdomain=subdomain,
            url_defaults=url_defaults,
            root_path=root_path,
            login_url=login_url,
            authorized_url=authorized_url,
            storage=storage,
            rule_kwargs=rule_kwargs,
            timeout=timeout,
            pending_login_ttl=pending_login_ttl,
        )
        if code_challenge_method not in _CHALLENGE_METHODS:
            raise ValueError(
                f"Unsupported code_challenge_method {code_challenge_method!r}:"
                " only 'S256' is allowed ('plain' offers no protection)."
                " Pass use_pkce=False to turn PKCE off."
            )

        #: The provider's API root.
        self.base_url = base_url
        #: The class of the per-request sessions.
        self.session_class = session_class or OAuth2Session
        self._client_id = client_id
        #: The oauthlib client each session copies, or ``None``.
        self.client = client
        #: Where expired tokens are refreshed.
        self.auto_refresh_url = auto_refresh_url
        #: Extra fields of the refresh request.
        self.auto_refresh_kwargs = auto_refresh_kwargs
        #: The scope asked for.
        self.scope = scope
        #: A fixed state or a state factory; ``None`` for a random state.
        self.state = state
        #: Keyword arguments for ``session_class``.
        self.kwargs = kwargs
        #: The client secret.
        self.client_secret = client_secret
        #: The provider's authorization endpoint.
        self.authorization_url = authorization_url
        #: Extra query parameters of the authorization request.
        self.authorization_url_params = dict(authorization_url_params or {})
        #: The provider's token endpoint.
        self.token_url = token_url
        #: Extra arguments for the token request.
        self.token_url_params = dict(token_url_params or {})
        #: Where to go after logging in.
        self.redirect_url = redirect_url
        #: The endpoint to go to after logging in.
        self.redirect_to = redirect_to
        #: The PKCE challenge method.
        self.code_challenge_method = code_challenge_method
        #: Whether PKCE is used.
        self.use_pkce = use_pkce
        #: A fixed callback URL, or ``None`` to build it per request.
        self.redirect_uri = redirect_uri

        self._apply_renamed_arguments(renamed, request_token_params)

    def _apply_renamed_arguments(
        self, renamed: dict[str, t.Any], request_token_params: t.Any
    ) -> None:
        for old, value in renamed.items():
            new = _RENAMED_ARGUMENTS[old]
            warnings.warn(
                f"'{old}' is the old name of '{new}'; use '{new}'.",
                DeprecationWarning,
                stacklevel=4,
            )
            if new == "client_id":
                self._client_id = value
            else:
                setattr(self, new, value)
        if request_token_params is not None:
            warnings.warn(
                "'request_token_params' is deprecated; pass 'scope' and"
                " 'authorization_url_params' instead.",
                DeprecationWarning,
                stacklevel=4,
            )
            params = dict(request_token_params)
            if "scope" in params:
                self.scope = params.pop("scope")
            self.authorization_url_params.update(params)

    # -- the session --------------------------------------------------------------

    @property
    def client_id(self) -> str | None:
        """The client ID. Assigning it also updates the current session."""
        return self._client_id

    @client_id.setter
    def client_id(self, value: str | None) -> None:
        self._client_id = value
        session = self._current_session()
        if session is not None:
            session.client_id = value
            session._client.client_id = value

    def _build_session(self) -> OAuth2Session:
        session = self.session_class(
            client_id=self._client_id,
            client=copy.copy(self.client) if self.client is not None else None,
            auto_refresh_url=self.auto_refresh_url,
            auto_refresh_kwargs=self.auto_refresh_kwargs,
            scope=self.scope,
            state=self.state,
            blueprint=self,
            base_url=self.base_url,
            **self.kwargs,
        )

        def token_updater(token: t.Any) -> None:
            self.token = token

        session.token_updater = token_updater
        return self.session_created(session)

    def session_created(self, session: OAuth2Session) -> OAuth2Session:
        """A hook to adjust each new session; returns it.

        :param session: The new session.
        """
        return session

    # -- URLs ---------------------------------------------------------------------

    def _absolute(self, url: str | None) -> str:
        if not url:
            raise RuntimeError(
                f"The blueprint {self.name!r} has no URL for this endpoint:"
                " pass 'authorization_url' and 'token_url' to the blueprint."
            )
        return join_url(self.base_url, url)

    def _redirect_uri(self) -> str:
        if self.redirect_uri:
            return self.redirect_uri
        return flask.url_for(".authorized", _external=True)

    def _new_state(self) -> str:
        if callable(self.state):
            return self.state()
        if self.state:
            return self.state
        return generate_token(30)

    # -- views --------------------------------------------------------------------

    def login(self) -> Response:
        """Start the dance: remember a new pending login and redirect the
        user to the provider."""
        self.load_config()
        session = self.session
        redirect_uri = self._redirect_uri()
        session.redirect_uri = redirect_uri
        params = dict(self.authorization_url_params)
        verifier = None
        if self.use_pkce:
            verifier = make_code_verifier()
            params["code_challenge"] = make_code_challenge(verifier)
            params["code_challenge_method"] = self.code_challenge_method
        url, state = session.authorization_url(
            self._absolute(self.authorization_url), state=self._new_state(), **params
        )
        self.pending_logins.add(
            PendingLogin(
                key=state,
                created_at=time.time(),
                code_verifier=verifier,
                next_url=self._requested_next_url(),
                redirect_uri=redirect_uri,
            )
        )
        log.debug("Sending the user to %r's authorization endpoint.", self.name)
        oauth_before_login.send(self, url=url)
        return flask.redirect(url)

    def _callback_params(self) -> t.Mapping[str, str]:
        return flask.request.args

    def _callback_url(self) -> str:
        return flask.request.url

    def authorized(self) -> t.Any:
        """Finish the dance: check the state, exchange the code for a token,
        send :data:`~flask_dance.consumer.oauth_authorized`, store the token
        and redirect."""
        self.load_config()
        params = self._callback_params()
        state = params.get("state")
        if "error" in params:
            self.pending_logins.consume(state)
            return self._fail(
                f"the provider answered {params['error']!r}",
                error=params["error"],
                error_description=params.get("error_description"),
                error_uri=params.get("error_uri"),
            )
        pending = self.pending_logins.consume(state)
        if pending is None:
            return self._fail(
                "the callback's state matches no pending login",
                error="invalid_state",
                error_description=(
                    "The login could not be completed: it expired, was already"
                    " used, or was started in another browser. Please try again."
                ),
                error_uri=None,
            )
        if "code" not in params:
            exc = MissingCodeError(description="Missing code parameter in response.")
            exc.args = (
                exc.args[0] if exc.args else "",
                _MISSING_CODE_MESSAGE.format(json.dumps(dict(params))),
            )
            raise exc
        return self._exchange_code(pending)

    def _exchange_code(self, pending: PendingLogin) -> t.Any:
        session = self.session
        session._state = pending.key
        session.redirect_uri = pending.redirect_uri or self._redirect_uri()
        token_params = dict(self.token_url_params)
        if pending.code_verifier:
            token_params["code_verifier"] = pending.code_verifier
        try:
            token = session.fetch_token(
                self._absolute(self.token_url),
                authorization_response=self._callback_url(),
                client_secret=self.client_secret,
                **token_params,
            )
        except InsecureTransportError:
            raise
        except OAuth2Error as exc:
            return self._fail(
                f"the token endpoint answered {exc.error!r}",
                error=exc.error,
                error_description=exc.description,
                error_uri=exc.uri,
            )
        except (requests.RequestException, ValueError) as exc:
            return self._fail(
                f"the token request failed ({type(exc).__name__})",
                error="token_request_failed",
                error_description=(
                    "The provider's token endpoint could not be reached or gave"
                    " an answer that is not a token."
                ),
                error_uri=None,
            )
        return self._finish_login(token, pending.next_url)

