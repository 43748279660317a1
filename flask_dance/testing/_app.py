"""The Flask application that serves the local provider's endpoints."""

from __future__ import annotations

import json
import logging
import secrets
import time
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
from flask import Flask
from flask import request
from flask import Response
from markupsafe import escape
from oauthlib.common import add_params_to_uri
from oauthlib.oauth1.rfc5849.errors import OAuth1Error
from oauthlib.oauth2.rfc6749.errors import FatalClientError
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from werkzeug.exceptions import HTTPException

from .. import _html
from . import _dpop
from . import _oauth1
from . import _oauth2
from . import _par
from ._crypto import decode_jwt
from ._oauth2 import classify_client_auth
from ._oauth2 import PendingAuthorization
from ._oauth2 import REASON_KEY
from ._oauth2 import Token

if t.TYPE_CHECKING:  # pragma: no cover
    import threading

    from flask import Request
    from oauthlib.openid import Server

log: logging.Logger = logging.getLogger(__name__)

#: Parameters the authorization endpoint adds to a redirect.
RESPONSE_PARAMS = frozenset(
    {
        "code",
        "state",
        "iss",
        "error",
        "error_description",
        "error_uri",
        "oauth_token",
        "oauth_verifier",
        "denied",
    }
)

#: The body served by :attr:`Faults.garbage_on`: an HTML error page.
GARBAGE_BODY = b'<html><body><h1>502 Bad Gateway</h1>{"not": json</body></html>'

#: Seconds a consent page stays valid.
CONSENT_LIFETIME = 600

#: The banner on every page: this is no real provider.
BANNER = (
    "<strong>Flask-Dance local test provider</strong>"
    " <span>· for tests and demos on this machine, not a real sign-in</span>"
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Provider(_oauth1.Provider, _oauth2.Provider, t.Protocol):
    """What the app needs of the provider it serves: both halves' needs, and
    the consent settings, the request log and the documents it publishes.
    :class:`~.provider.LocalProvider` has all of it."""

    auto_approve: bool
    _oauth1: _oauth1.OAuth1Endpoints
    _oauth2_server: Server
    _stopping: threading.Event

    @property
    def default_user(self) -> str | None: ...

    def metadata(self) -> dict[str, t.Any]: ...

    def jwks(self) -> dict[str, t.Any]: ...

    def _record(
        self,
        names: tuple[str, ...],
        req: Request,
        form: dict[str, str],
        client_auth: str | None,
    ) -> None: ...

    def _userinfo(self, login: str) -> dict[str, t.Any]: ...


def _page(title: str, body: str, status: int = 200) -> Response:
    html = _html.page(f"{title} · local test provider", body, banner=BANNER)
    headers = {**_NO_STORE, "X-Frame-Options": "DENY"}
    return Response(html, status, headers, content_type="text/html; charset=utf-8")


def _error_page(error: str, description: str | None, status: int = 400) -> Response:
    body = _html.error_body(status, error, description) + (
        '<p class="muted">The local test provider refused this request.</p>'
    )
    return _page(error, body, status)


def _json(
    data: t.Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json.dumps(data), status, headers, content_type="application/json")


def _names(endpoint: str | None) -> tuple[str, ...]:
    if endpoint is None:
        return ()
    if endpoint == "token":
        grant_type = request.form.get("grant_type")
        if grant_type == "refresh_token":
            return ("token", "refresh")
        if grant_type == "authorization_code":
            return ("token", "exchange")
        return ("token",)
    return (endpoint,)


def create_app(provider: Provider) -> Flask:
    """Build the provider's Flask application.

    :param provider: The provider whose state the views use.
    """
    app = Flask(__name__)
    server = provider._oauth2_server

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        """Werkzeug's errors (404, 405, ...) in the provider's own style."""
        return _error_page(exc.name, exc.description, exc.code or 500)

    oauth1 = provider._oauth1
    store = provider._oauth2_store

    @app.before_request
    def _before() -> Response | None:
        # Cache the raw body first: oauthlib parses it again from the string.
        request.get_data(cache=True)
        names = _names(request.endpoint)
        if not names:
            return None
        form = request.form.to_dict() if request.method == "POST" else {}
        client_auth = None
        if names[0] in ("token", "revoke", "introspect", "par"):
            client_auth = classify_client_auth(
                request.headers.get("Authorization", ""), form
            )
        provider._record(names, request, form, client_auth)
        faults = provider.faults
        delay = max((faults.delay_on.get(n, 0.0) for n in names), default=0.0)
        if delay > 0:
            provider._stopping.wait(delay)
        if any(n in faults.status_500_on for n in names):
            return Response(
                "Internal Server Error", 500, content_type="text/plain; charset=utf-8"
            )
        if any(n in faults.garbage_on for n in names):
            return Response(GARBAGE_BODY, 200, content_type="text/html; charset=utf-8")
        return None

    # -- metadata ------------------------------------------------------------

    @app.get("/.well-known/openid-configuration", endpoint="discovery")
    @app.get("/.well-known/oauth-authorization-server", endpoint="discovery")
    def discovery() -> Response:
        return _json(provider.metadata())

    @app.get("/jwks.json", endpoint="jwks")
    def jwks() -> Response:
        return _json(provider.jwks())

    # -- authorization endpoint --------------------------------------------

    def respond(
        redirect_uri: str, params: list[tuple[str, str]], response_mode: str
    ) -> Response:
        faults = provider.faults
        params = [(k, v) for k, v in params if k != "iss"]
        if not faults.omit_response_iss:
            params.append(("iss", faults.response_iss or provider.issuer))
        if response_mode == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                for k, v in params
            )
            body = (
                "<h1>Returning to the app…</h1>"
                f'<form method="post" action="{escape(redirect_uri)}">{fields}'
                '<noscript><button type="submit" class="primary">Continue</button>'
                "</noscript></form><script>document.forms[0].submit()</script>"
            )
            return _page("Submit this form", body)
        location = add_params_to_uri(redirect_uri, params)
        return Response("", 302, {"Location": location, **_NO_STORE})

    def error_params(
        error: str, description: str | None, state: str | None
    ) -> list[tuple[str, str]]:
        params = [("error", error)]
        if description:
            params.append(("error_description", description))
        if state is not None:
            params.append(("state", state))
        return params

    def approve(pending: PendingAuthorization, user: str) -> Response:
        headers, _, _ = server.create_authorization_response(
            pending.uri,
            "GET",
            None,
            {},
            scopes=pending.scopes,
            credentials={"user": user},
        )
        location = headers["Location"]
        params = [
            (k, v)
            for k, v in parse_qsl(urlsplit(location).query, keep_blank_values=True)
            if k in RESPONSE_PARAMS
        ]
        return respond(pending.redirect_uri, params, pending.response_mode)

    def consent_page(
        txn: str,
        client_name: str,
        scopes: list[str],
        selected: str | None,
        action: str,
    ) -> Response:
        items = "".join(f"<li>{escape(s)}</li>" for s in scopes) or "<li>(none)</li>"
        options = "".join(
            '<option value="{}"{}>{}</option>'.format(
                escape(login),
                " selected" if login == selected else "",
                escape(f"{u.name} ({login})" if u.name else login),
            )
            for login, u in provider.users.items()
        )
        body = (
            f"<h1>Authorize {escape(client_name)}</h1>"
            '<div class="card">'
            f"<p><strong id='client_name'>{escape(client_name)}</strong>"
            " asks for access to your account.</p>"
            "<p class='muted'>It asks for these scopes:</p>"
            f"<ul id='scopes' class='scopes'>{items}</ul>"
            f'<form method="post" action="{escape(action)}">'
            f'<input type="hidden" name="txn" value="{escape(txn)}">'
            '<label for="user">Sign in as</label>'
            f'<select name="user" id="user">{options}</select>'
            '<div class="actions">'
            '<button type="submit" class="primary" name="approve" id="approve"'
            ' value="1">Approve</button>'
            '<button type="submit" name="deny" id="deny" value="1">Deny</button>'
            "</div></form></div>"
            "<p class='muted'>No password here: this local test provider signs in"
            " whichever test user you pick.</p>"
        )
        return _page(f"Authorize {client_name}", body)

    _par.register(app, provider)

    @app.get("/authorize", endpoint="authorize")
    def authorize() -> Response:
        url = _par.authorization_url(provider)
        if isinstance(url, Response):
            return url
        try:
            scopes, info = server.validate_authorization_request(
                url, "GET", None, dict(request.headers)
            )
        except FatalClientError as exc:
            return _error_page(str(exc.error), exc.description)
        except OAuth2Error as exc:
            if not exc.redirect_uri:
                return _error_page(str(exc.error), exc.description)
            mode = "form_post" if exc.response_mode == "form_post" else "query"
            return respond(
                exc.redirect_uri,
                error_params(str(exc.error), exc.description, exc.state),
                mode,
            )
        oauth_request = info["request"]
        redirect_uri: str = info["redirect_uri"]
        state: str | None = info["state"]
        response_mode = oauth_request.response_mode or "query"
        if response_mode not in ("query", "form_post"):
            return respond(
                redirect_uri,
                error_params("invalid_request", "Unsupported response_mode.", state),
                "query",
            )
        faults = provider.faults
        if faults.deny_all or faults.authorize_error:
            return respond(
                redirect_uri,
                error_params(
                    faults.authorize_error or "access_denied",
                    faults.authorize_error_description,
                    state,
                ),
                response_mode,
            )
        client = provider.clients[info["client_id"]]
        pending = PendingAuthorization(
            uri=url,
            scopes=list(scopes),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            state=state,
            response_mode=response_mode,
            login_hint=oauth_request.login_hint,
            expires_at=time.time() + CONSENT_LIFETIME,
        )
        selected = (
            pending.login_hint
            if pending.login_hint in provider.users
            else provider.default_user
        )
        if provider.auto_approve and selected is not None:
            return approve(pending, selected)
        txn = secrets.token_urlsafe(32)
        with store.lock:
            now = time.time()
            for stale in [k for k, v in store.pending.items() if v.expires_at < now]:
                del store.pending[stale]
            store.pending[txn] = pending
        return consent_page(
            txn, client.display_name, pending.scopes, selected, "/authorize"
        )

    @app.post("/authorize", endpoint="consent")
    def authorize_decision() -> Response:
        with store.lock:
            pending = store.pending.pop(request.form.get("txn", ""), None)
        if pending is None or time.time() >= pending.expires_at:
            return _error_page(
                "invalid_request", "Unknown or expired authorization request."
            )
        if "approve" not in request.form:
            return respond(
                pending.redirect_uri,
                error_params(
                    "access_denied", "The user denied the request.", pending.state
                ),
                pending.response_mode,
            )
        user = request.form.get("user") or provider.default_user
        if user is None or user not in provider.users:
            return _error_page("invalid_request", "Unknown user.")
        return approve(pending, user)

    # -- token, revocation -------------------------------------------------

    @app.post("/token", endpoint="token")
    def token() -> Response:
        faults = provider.faults
        grant_type = request.form.get("grant_type")
        forced = None
        if grant_type == "authorization_code":
            forced = faults.token_error
        elif grant_type == "refresh_token":
            forced = faults.refresh_error
        if forced:
            status = 401 if forced == "invalid_client" else 400
            return _json({"error": forced}, status, _NO_STORE)
        if grant_type not in ("authorization_code", "refresh_token"):
            return _json({"error": "unsupported_grant_type"}, 400, _NO_STORE)
        try:
            jkt = _dpop.check_proof(provider)
        except _dpop.ProofError as exc:
            return _dpop.token_error(provider, exc)
        if jkt is None and _par.claimed_client(provider).require_dpop:
            return _json(
                {
                    "error": "invalid_dpop_proof",
                    "error_description": "This client must send a DPoP proof.",
                },
                400,
                _NO_STORE,
            )
        headers, body, status = server.create_token_response(
            request.url,
            "POST",
            request.get_data(as_text=True),
            dict(request.headers),
        )
        if status != 200:
            return Response(body, status, headers)
        data: dict[str, t.Any] = json.loads(body)
        if jkt is not None:
            data["token_type"] = "DPoP"
            with store.lock:
                record = store.access_tokens.get(data["access_token"])
                if record is not None:
                    record.jkt = jkt
        if faults.omit_id_token:
            data.pop("id_token", None)
        overrides = dict(faults.token_response_overrides)
        if grant_type == "refresh_token":
            overrides.update(faults.refresh_response_overrides)
        for name, value in overrides.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return _json(data, 200, {**headers, **_NO_STORE})

    def oauthlib_answer(create: t.Callable[..., t.Any]) -> Response:
        headers, body, status = create(
            request.url,
            "POST",
            request.get_data(as_text=True),
            dict(request.headers),
        )
        return Response(body, status, headers)

    @app.post("/revoke", endpoint="revoke")
    def revoke() -> Response:
        return oauthlib_answer(server.create_revocation_response)

    @app.post("/introspect", endpoint="introspect")
    def introspect() -> Response:
        return oauthlib_answer(server.create_introspect_response)

    # -- protected resources -------------------------------------------------

    def bearer(scopes: list[str]) -> Token | Response:
        header = request.headers.get("Authorization", "")
        jkt = None
        if header[:5].lower() == "dpop ":
            access_token = header[5:].strip()
            try:
                jkt = _dpop.check_proof(provider, access_token=access_token)
            except _dpop.ProofError as exc:
                return _dpop.resource_error(provider, exc.error, exc.description)
            if jkt is None:
                return _dpop.resource_error(provider, "invalid_token", "No proof.")
            header = "Bearer " + access_token
        elif header[:7].lower() != "bearer ":
            return Response(
                "", 401, {"WWW-Authenticate": 'Bearer realm="local-provider"'}
            )
        valid, oauth_request = server.verify_request(
            request.base_url, "GET", None, {"Authorization": header}, scopes=scopes
        )
        if not valid:
            reason = oauth_request.validator_log.get(REASON_KEY, "invalid_token")
            status = 403 if reason == "insufficient_scope" else 401
            challenge = f'Bearer realm="local-provider", error="{reason}"'
            return _json({"error": reason}, status, {"WWW-Authenticate": challenge})
        with store.lock:
            record = store.access_tokens.get(header[7:].strip())
        if record is None:  # revoked meanwhile
            return _json({"error": "invalid_token"}, 401)
        if record.jkt != jkt:
            # a DPoP-bound token sent as Bearer, or with another key
            return _dpop.resource_error(
                provider, "invalid_token", "The token is bound to another key."
            )
        return record

    @app.route("/user", endpoint="user", methods=["GET"])
    def user() -> Response:
        record = bearer([])
        if isinstance(record, Response):
            return record
        return _json(provider.users[record.grant.user].profile())

    @app.route("/user/emails", endpoint="user_emails", methods=["GET"])
    def user_emails() -> Response:
        record = bearer([])
        if isinstance(record, Response):
            return record
        return _json(provider.users[record.grant.user].email_list())

    @app.route("/userinfo", endpoint="userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        record = bearer(["openid"])
        if isinstance(record, Response):
            return record
        return _json(provider._userinfo(record.grant.user))

    # -- end session ---------------------------------------------------------

    @app.route("/logout", endpoint="logout", methods=["GET", "POST"])
    def logout() -> Response:
        values = request.values
        hint = values.get("id_token_hint")
        client_id = values.get("client_id")
        if hint:
            try:
                claims = decode_jwt(hint, provider.jwks()["keys"], verify_exp=False)
            except jwt.InvalidTokenError:
                return _error_page("invalid_request", "Invalid id_token_hint.")
            if claims.get("iss") != provider.issuer:
                return _error_page("invalid_request", "Invalid id_token_hint.")
            aud = claims.get("aud")
            audiences = [aud] if isinstance(aud, str) else list(aud or [])
            if client_id is None and audiences:
                client_id = audiences[0]
            elif client_id not in audiences:
                return _error_page("invalid_request", "client_id does not match.")
        target = values.get("post_logout_redirect_uri")
        if target:
            client = provider.clients.get(client_id or "")
            if client is None or target not in client.post_logout_redirect_uris:
                return _error_page(
                    "invalid_request", "Unregistered post_logout_redirect_uri."
                )
            params = []
            if "state" in values:
                params.append(("state", values["state"]))
            location = add_params_to_uri(target, params)
            return Response("", 302, {"Location": location, **_NO_STORE})
        return _page(
            "Signed out",
            "<h1>You are signed out.</h1>"
            "<p>You are signed out of the local test provider. You can close"
            " this page.</p>",
        )

    # -- OAuth 1 -------------------------------------------------------------

    def oauth1_response(
        headers: dict[str, str], body: str | None, status: int
    ) -> Response:
        return Response(body or "", status, headers)

    @app.route(
        "/oauth1/request_token",
        endpoint="oauth1_request_token",
        methods=["GET", "POST"],
    )
    def oauth1_request_token() -> Response:
        return oauth1_response(
            *oauth1.request_token.create_request_token_response(
                request.url,
                request.method,
                request.get_data(as_text=True),
                dict(request.headers),
            )
        )

    def oauth1_denied(token: str) -> Response:
        with provider._oauth1_store.lock:
            record = provider._oauth1_store.request_tokens.pop(token, None)
        if record is None or record.callback == "oob":
            return _error_page("access_denied", "The user denied the request.", 403)
        location = add_params_to_uri(record.callback, [("denied", token)])
        return Response("", 302, {"Location": location, **_NO_STORE})

    def oauth1_approve(token: str, user: str) -> Response:
        with provider._oauth1_store.lock:
            provider._oauth1_store.request_tokens[token].user = user
        headers, body, status = oauth1.authorization.create_authorization_response(
            provider.url + "/oauth1/authorize?" + urlencode([("oauth_token", token)]),
            "GET",
        )
        if status == 200:
            verifier = dict(parse_qsl(body or "")).get("oauth_verifier", "")
            return _page(
                "Verifier",
                "<h1>Your verifier</h1><p>Enter it in the app:"
                f" <code id='verifier'>{escape(verifier)}</code></p>",
            )
        return Response("", status, {**headers, **_NO_STORE})

    @app.get("/oauth1/authorize", endpoint="oauth1_authorize")
    def oauth1_authorize() -> Response:
        token = request.args.get("oauth_token", "")
        try:
            oauth1.authorization.get_realms_and_credentials(
                request.url, "GET", None, dict(request.headers)
            )
        except OAuth1Error as exc:
            return _error_page(exc.error, exc.description)
        faults = provider.faults
        if faults.deny_all:
            return oauth1_denied(token)
        with provider._oauth1_store.lock:
            client_key = provider._oauth1_store.request_tokens[token].client_key
        client = provider.oauth1_clients[client_key]
        selected = provider.default_user
        if provider.auto_approve and selected is not None:
            return oauth1_approve(token, selected)
        txn = secrets.token_urlsafe(32)
        with provider._oauth1_store.lock:
            provider._oauth1_store.pending[txn] = (
                token,
                time.time() + CONSENT_LIFETIME,
            )
        return consent_page(txn, client.display_name, [], selected, "/oauth1/authorize")

    @app.post("/oauth1/authorize", endpoint="oauth1_consent")
    def oauth1_authorize_decision() -> Response:
        with provider._oauth1_store.lock:
            pending = provider._oauth1_store.pending.pop(
                request.form.get("txn", ""), None
            )
        if pending is None or time.time() >= pending[1]:
            return _error_page(
                "invalid_request", "Unknown or expired authorization request."
            )
        token = pending[0]
        if "approve" not in request.form:
            return oauth1_denied(token)
        user = request.form.get("user") or provider.default_user
        if user is None or user not in provider.users:
            return _error_page("invalid_request", "Unknown user.")
        return oauth1_approve(token, user)

    @app.post("/oauth1/access_token", endpoint="oauth1_access_token")
    def oauth1_access_token() -> Response:
        return oauth1_response(
            *oauth1.access_token.create_access_token_response(
                request.url,
                request.method,
                request.get_data(as_text=True),
                dict(request.headers),
            )
        )

    def oauth1_user_login() -> str | Response:
        valid, oauth_request = oauth1.resource.validate_protected_resource_request(
            request.url,
            request.method,
            request.get_data(as_text=True),
            dict(request.headers),
        )
        if not valid or oauth_request is None:
            return Response(
                "", 401, {"WWW-Authenticate": 'OAuth realm="local-provider"'}
            )
        with provider._oauth1_store.lock:
            record = provider._oauth1_store.access_tokens[
                str(oauth_request.resource_owner_key)
            ]
        return record.user

    @app.get("/oauth1/user", endpoint="oauth1_user")
    def oauth1_user() -> Response:
        login = oauth1_user_login()
        if isinstance(login, Response):
            return login
        return _json(provider.users[login].profile())

    @app.get("/oauth1/user/emails", endpoint="oauth1_user_emails")
    def oauth1_user_emails() -> Response:
        login = oauth1_user_login()
        if isinstance(login, Response):
            return login
        return _json(provider.users[login].email_list())

    return app
