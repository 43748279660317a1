"""The end of an OAuth 2 login: the provider's redirect (or form post) back
to the ``authorized`` view is matched with its pending login, the code is
exchanged for a token with the pending login's verifier, and an OpenID Connect
login's id_token is validated before the token is handed on."""

from __future__ import annotations

import json
import logging
import typing as t
from html import escape
from urllib.parse import urlencode

import flask
import requests
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2 import MissingCodeError
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session as _RequestsOAuth2Session
from werkzeug.wrappers import Response

from . import _client_auth
from . import _openid
from . import _token_endpoint
from ._oidc_errors import OIDCError
from ._pending import PendingLogin
from ._token_endpoint import _token_response
from ._token_endpoint import CLIENT_AUTH_ERRORS
from .requests import OAuth2Session

if t.TYPE_CHECKING:  # pragma: no cover
    from .._typing import OAuth2Host
else:
    OAuth2Host = object


log: logging.Logger = logging.getLogger(__name__)


#: What deciding the client authentication may raise: a configuration the
#: method cannot use, or failed discovery.


_NO_PENDING_LOGIN = (
    "The login could not be completed: it expired, was already used, or was"
    " started in another browser. Please try again."
)


#: A hidden field marking a form_post callback we posted again ourselves.
_REPOST_FIELD = "_flask_dance_repost"


_MISSING_CODE_MESSAGE = (
    "The redirect request did not contain the expected parameters. Instead I got: {}"
)


_STOCK_FETCH_TOKEN = OAuth2Session.fetch_token


_STOCK_LIBRARY_FETCH_TOKEN = _RequestsOAuth2Session.fetch_token


def _fetch_token_is_stock(session: t.Any) -> bool:
    """Whether ``session.fetch_token`` is the library's own, not patched
    (as tests do with ``bp.session.fetch_token = Mock()``) or overridden."""
    return (
        "fetch_token" not in vars(session)
        and getattr(type(session), "fetch_token", None) is _STOCK_FETCH_TOKEN
        and _RequestsOAuth2Session.fetch_token is _STOCK_LIBRARY_FETCH_TOKEN
    )


def _repost_page(action: str, params: t.Mapping[str, str]) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in params.items()
    )
    body = (
        "<!doctype html><html><head><title>Signing in…</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{escape(action)}">{fields}'
        f'<input type="hidden" name="{_REPOST_FIELD}" value="1">'
        '<noscript><button type="submit">Continue</button></noscript>'
        "</form></body></html>"
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class CallbackMixin(OAuth2Host):
    """The ``authorized`` view of :class:`~.oauth2.OAuth2ConsumerBlueprint`."""

    def _callback_params(self) -> t.Mapping[str, str]:
        if flask.request.method == "POST":
            return flask.request.form
        return flask.request.args

    def _callback_url(self) -> str:
        if flask.request.method == "POST":
            fields = [
                (key, value)
                for key, value in flask.request.form.items(multi=True)
                if key != _REPOST_FIELD
            ]
            return flask.request.base_url + "?" + urlencode(fields)
        return flask.request.url

    def authorized(self) -> t.Any:
        """Finish the dance: check the state, exchange the code for a token,
        validate the id_token of an OpenID Connect login, send
        :data:`~flask_dance.consumer.oauth_authorized`, store the token and
        redirect."""
        self._refresh_config()
        params = self._callback_params()
        state = params.get("state")
        if "error" in params:
            self.pending_logins.consume(state)
            return self._fail(
                f"the provider answered {params['error']!r}",
                error=params["error"],
                error_description=params.get("error_description"),
                error_uri=params.get("error_uri"),
                message=params.get("error_description")
                or f"The provider refused the login ({params['error']}).",
            )
        if (
            flask.request.method == "POST"
            and _REPOST_FIELD not in params
            and not self.pending_logins.has_key(state)
        ):
            # A cross-site POST arrives without the SameSite=Lax session
            # cookie; posting it again from our own page brings the cookie.
            return _repost_page(flask.request.base_url, params)
        pending = self.pending_logins.consume(state)
        if pending is None:
            return self._no_pending_login(
                "the callback's state matches no pending login",
                error="invalid_state",
                error_description=_NO_PENDING_LOGIN,
            )
        if "code" not in params:
            exc = MissingCodeError(description="Missing code parameter in response.")
            exc.args = (
                exc.args[0] if exc.args else "",
                _MISSING_CODE_MESSAGE.format(json.dumps(dict(params))),
            )
            raise exc
        if not params.get("code"):
            return self._fail(
                "the callback's code is empty",
                error="invalid_request",
                error_description="The provider sent back an empty code.",
                error_uri=None,
            )
        try:
            # (``in`` first: werkzeug's MultiDict.get raises and catches a
            # KeyError for a missing key, and most providers send no ``iss``.)
            issuer = params.get("iss") if "iss" in params else None
            _openid.check_callback_issuer(self, issuer)
            token_url = self._endpoint("token")
        except OIDCError as exc:
            return self._oidc_failure(exc)
        return self._exchange_code(pending, token_url, params.get("code"))

    def _exchange_client_auth(
        self, token_url: str, token_params: dict[str, t.Any]
    ) -> _client_auth.ClientAuth | None:
        """The client authentication of the code exchange; ``None`` for
        Flask-Dance 7.1's. An ``auth`` or ``include_client_id`` in
        ``token_url_params`` is the app's (or preset's) own choice, which
        only a configured ``token_endpoint_auth_method`` overrides."""
        own = ("auth", "include_client_id")
        if any(key in token_params for key in own):
            if _client_auth.configured_method(self) is None:
                return None
            for key in own:
                token_params.pop(key, None)
        return _client_auth.for_request(self, token_url, keep_legacy=True)

    def _client_auth_failure(self, exc: Exception) -> t.Any:
        reason = f"the client cannot authenticate: {exc}"
        return self._fail_for(reason, exc, "invalid_client")

    def _exchange_code(
        self, pending: PendingLogin, token_url: str, code: str | None
    ) -> t.Any:
        session = self.session
        session._token_response = None
        session._state = pending.key
        session.redirect_uri = pending.redirect_uri or self._redirect_uri()
        token_params = dict(self.token_url_params)
        if pending.code_verifier:
            token_params["code_verifier"] = pending.code_verifier
        try:
            client_auth = self._exchange_client_auth(token_url, token_params)
        except CLIENT_AUTH_ERRORS as exc:
            return self._client_auth_failure(exc)
        dpop_key = None
        try:
            if code and _fetch_token_is_stock(session):
                # The state was checked against the pending login already:
                # hand over the code rather than the callback URL to parse.
                token, dpop_key = self._fetch_code_token(
                    session, token_url, code, token_params, client_auth
                )
            else:
                # As Flask-Dance 7.1 called it, for a patched fetch_token.
                auth_kwargs: dict[str, t.Any] = {"client_secret": self.client_secret}
                if client_auth is not None:
                    auth_kwargs = client_auth.fetch_token_kwargs(self.client_secret)
                token = session.fetch_token(
                    token_url,
                    authorization_response=self._callback_url(),
                    **auth_kwargs,
                    **token_params,
                )
        except InsecureTransportError as exc:
            what = f"the token URL {token_url!r} or the callback URL"
            from . import _setup

            _setup.refuse_insecure_transport(what, exc)
        except OAuth2Error as exc:
            return self._fail(
                f"the token endpoint answered {exc.error!r}",
                error=exc.error,
                error_description=exc.description,
                error_uri=exc.uri,
                response=_token_response(session, exc),
            )
        except (requests.RequestException, ValueError) as exc:
            return self._fail(
                f"the token request failed ({type(exc).__name__})",
                error="token_request_failed",
                error_description=(
                    "The provider's token endpoint could not be reached or gave"
                    " an answer that is not a token."
                ),
                response=_token_response(session, exc),
            )
        if self.issuer and isinstance(token, dict):
            try:
                claims = _openid.validate_login_token(
                    self,
                    token,
                    nonce=pending.nonce,
                    max_age=pending.max_age,
                    code=code,
                )
            except OIDCError as exc:
                session.token = None
                return self._oidc_failure(exc)
            token = dict(token)
            token[_openid.CLAIMS_KEY] = claims
            session.token = token
        if dpop_key is not None and isinstance(token, dict):
            # The key goes wherever the token goes (sealed with it).
            token = {**token, _token_endpoint.DPOP_KEY_FIELD: dpop_key}
            session.token = token
        return self._finish_login(token, pending.next_url)

    def _fetch_code_token(
        self,
        session: OAuth2Session,
        token_url: str,
        code: str,
        token_params: dict[str, t.Any],
        client_auth: _client_auth.ClientAuth | None,
    ) -> tuple[t.Any, dict[str, str] | None]:
        """Exchange the code, with a DPoP proof when DPoP is on; left to
        ``None``, once more with one when the provider asks for DPoP.
        Return the token and the DPoP key it is bound to, if any."""
        dpop_key = self._new_dpop_key() if self.dpop else None
        while True:
            try:
                token = session._fetch_token_for_code(
                    token_url,
                    code,
                    client_secret=self.client_secret,
                    params=token_params,
                    client_auth=client_auth,
                    prover=self._dpop_prover(dpop_key),
                )
            except OAuth2Error as exc:
                if dpop_key is not None or self.dpop is not None:
                    raise
                if not self._may_want_dpop(exc):
                    raise
                log.info(
                    "%r's token endpoint asks for DPoP; sending a proof.", self.name
                )
                dpop_key = self._new_dpop_key()
                client_auth = client_auth.renewed() if client_auth else None
                continue
            kind = token.get("token_type") if isinstance(token, t.Mapping) else None
            return token, dpop_key if str(kind).lower() == "dpop" else None

    def _may_want_dpop(self, exc: OAuth2Error) -> bool:
        """Whether a refused proof-less code exchange may be for want of a
        DPoP proof: the error says so, or the provider supports DPoP and
        answered ``invalid_grant`` (as servers that hide the reason do)."""
        if _asks_for_dpop(exc):
            return True
        if exc.error not in ("invalid_grant", "invalid_request"):
            return False
        try:
            meta = _openid.metadata(self)
        except OIDCError:
            return False
        return bool(meta is not None and meta.get("dpop_signing_alg_values_supported"))

    def _new_dpop_key(self) -> dict[str, str]:
        from . import _dpop

        return _dpop.new_key()

    def _dpop_prover(self, token: t.Any) -> _token_endpoint.Prover | None:
        """The DPoP proof maker of a token's key (or of a bare key)."""
        if not isinstance(token, t.Mapping):
            return None
        jwk = token.get(_token_endpoint.DPOP_KEY_FIELD, token)
        if not isinstance(jwk, t.Mapping) or "d" not in jwk:
            return None
        from . import _dpop

        nonces = self._dpop_nonces
        if nonces is None:
            nonces = self._dpop_nonces = _dpop.Nonces()
        return _dpop.Prover(jwk, nonces)


def _asks_for_dpop(exc: OAuth2Error) -> bool:
    """Whether a token endpoint refused a request for want of a DPoP proof."""
    if exc.error in ("invalid_dpop_proof", "use_dpop_nonce"):
        return True
    return "dpop" in str(exc.description or "").lower()
