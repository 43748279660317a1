"""Sign in with Apple: https://developer.apple.com/documentation/sign_in_with_apple

Apple has no fixed client secret: each request to its token endpoint carries
a short-lived ES256 JWT, signed with a private key from the Apple developer
account. This preset makes that JWT on demand and makes a new one before it
expires.

Needs the ``oidc`` extra (PyJWT and cryptography).
"""

from __future__ import annotations

import logging
import threading
import typing as t

import requests

from ..consumer.oauth2 import OAuth2ConsumerBlueprint
from ..consumer.requests import OAuth2Session
from . import _base

if t.TYPE_CHECKING:  # pragma: no cover
    from ..consumer.oidc.client_auth import AppleClientSecret
    from ..consumer.oidc.client_auth import PrivateKey

__maintainer__ = "Flask-Dance contributors"

log: logging.Logger = logging.getLogger(__name__)

#: Apple's issuer.
ISSUER = "https://appleid.apple.com"
#: Apple's token revocation endpoint.
REVOCATION_URL = "https://appleid.apple.com/auth/revoke"
#: The scopes that make Apple answer with a ``form_post`` callback.
FORM_POST_SCOPES = frozenset({"name", "email"})
#: Seconds each client secret lives.
SECRET_LIFETIME = 3600
#: A new client secret is made this many seconds before the current one
#: expires.
SECRET_RENEW_BEFORE = 300

_NO_USERINFO_MSG = (
    "Sign in with Apple has no userinfo endpoint. Read the user's claims from"
    " 'bp.id_token_claims' (or token['id_token_claims'] in an 'oauth_authorized'"
    " receiver); Apple sends the user's name only once, in the 'user' form field"
    " of the first callback."
)

_SecretKey: t.TypeAlias = "tuple[str, str, str, PrivateKey]"


class AppleBlueprint(_base.PresetOAuth2Blueprint):
    """The Sign in with Apple blueprint: its :attr:`client_secret` is a JWT
    signed with the developer account's private key when :attr:`team_id`,
    :attr:`key_id` and :attr:`private_key` are set, made again shortly before
    it expires."""

    def __init__(
        self,
        *args: t.Any,
        team_id: str | None = None,
        key_id: str | None = None,
        private_key: PrivateKey | None = None,
        **kwargs: t.Any,
    ) -> None:
        """
        :param args: Passed to the base blueprint class.
        :param team_id: The Apple developer team ID.
        :param key_id: The ID of the Sign in with Apple private key.
        :param private_key: The private key (the ``.p8`` file's PEM text).
        :param kwargs: Passed to the base blueprint class.
        :raises ValueError: when ``private_key`` is not a P-256 private key.
        """
        #: The Apple developer team ID: the ``iss`` of the client secret.
        self.team_id = team_id
        #: The private key's ID: the ``kid`` of the client secret.
        self.key_id = key_id
        #: The private key signing the client secret.
        self.private_key = private_key
        self._fixed_secret: str | None = None
        self._signer: AppleClientSecret | None = None
        self._signer_key: _SecretKey | None = None
        self._signer_lock = threading.Lock()
        if private_key is not None:
            # fail now, not at the first login, on a key that is not P-256
            self._make_signer(("", "", "", private_key))
        super().__init__(*args, **kwargs)

    @property
    def client_secret(self) -> str | None:
        """The client secret for the current request: a fresh enough signed
        JWT when the client ID, :attr:`team_id`, :attr:`key_id` and
        :attr:`private_key` are all set, else the secret assigned (or
        configured as ``APPLE_OAUTH_CLIENT_SECRET``), if any."""
        client_id = self.client_id
        if self.team_id and self.key_id and self.private_key and client_id:
            key = (self.team_id, str(client_id), self.key_id, self.private_key)
            with self._signer_lock:
                signer = self._signer
                if signer is None or self._signer_key != key:
                    signer = self._signer = self._make_signer(key)
                    self._signer_key = key
            return signer()
        return self._fixed_secret

    @client_secret.setter
    def client_secret(self, value: str | None) -> None:
        self._fixed_secret = value

    @staticmethod
    def _make_signer(key: _SecretKey) -> AppleClientSecret:
        from ..consumer.oidc import AppleClientSecret

        team_id, client_id, key_id, private_key = key
        return AppleClientSecret(
            team_id,
            client_id,
            key_id,
            private_key,
            lifetime=SECRET_LIFETIME,
            renew_before=SECRET_RENEW_BEFORE,
        )

    def userinfo(self) -> dict[str, t.Any]:
        """Apple has no userinfo endpoint: this always raises.

        :raises RuntimeError: always; use :attr:`id_token_claims` instead.
        """
        raise RuntimeError(_NO_USERINFO_MSG)

    def revoke_token(self, token: t.Mapping[str, t.Any] | None = None) -> bool:
        """Revoke the current user's token (or ``token``) at Apple: the
        refresh token if there is one, else the access token. Apple takes the
        client ID and secret in the request's body.

        :param token: The token to revoke; default: the stored one.
        :return: Whether Apple confirmed the revocation.
        """
        if token is None:
            token = self.token
        if not isinstance(token, t.Mapping) or not self.revocation_url:
            return False
        hint = "refresh_token" if token.get("refresh_token") else "access_token"
        value = token.get(hint)
        if not value or not self.client_id:
            return False
        data = {
            "client_id": str(self.client_id),
            "client_secret": self.client_secret or "",
            "token": value,
            "token_type_hint": hint,
        }
        try:
            response = self.session.post(  # type: ignore[call-arg]
                self.revocation_url, data=data, withhold_token=True
            )
        except requests.RequestException:
            log.warning("Could not reach Apple's revocation endpoint.")
            return False
        if response.status_code != 200:
            log.warning(
                "Apple's revocation endpoint answered HTTP %s.", response.status_code
            )
            return False
        return True


@_base.preset_docs("apple")
def make_apple_blueprint(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    team_id: str | None = None,
    key_id: str | None = None,
    private_key: PrivateKey | None = None,
    scope: _base.Scope = "name email",
    redirect_url: str | None = None,
    redirect_to: str | None = None,
    login_url: str | None = None,
    authorized_url: str | None = None,
    session_class: type[OAuth2Session] | None = None,
    storage: _base.Storage = None,
    rule_kwargs: _base.RuleKwargs = None,
    redirect_uri: str | None = None,
) -> OAuth2ConsumerBlueprint:
    """Make a blueprint for Sign in with Apple.

    In the Apple developer account, create a Services ID (the client ID) with
    Sign in with Apple enabled, register your domain and the ``authorized``
    view as a "Return URL" (Apple accepts only HTTPS), and create a private
    key for Sign in with Apple. The client secret is then made from the team
    ID, the key ID and the key, for each token request, and renewed before it
    expires. The issuer is ``https://appleid.apple.com``; id_tokens must be
    signed with RS256. Apple has no userinfo endpoint: the user's claims are
    in ``bp.id_token_claims``.

    When the scope asks for ``name`` or ``email``, Apple sends the user back
    with a POST (``response_mode=form_post``); the first callback for each user
    also carries the user's name, as JSON in the ``user`` form field, which an
    :data:`~flask_dance.consumer.oauth_authorized` receiver can read from
    :attr:`flask.request.form`.

    :param client_id: The Services ID, such as ``com.example.web``. Default:
        the ``APPLE_OAUTH_CLIENT_ID`` config value.
    :param client_secret: A client secret made beforehand, used only when
        ``team_id``, ``key_id`` or ``private_key`` is missing. Default: the
        ``APPLE_OAUTH_CLIENT_SECRET`` config value.
    :param team_id: Your Apple developer team ID. Default: the
        ``APPLE_OAUTH_TEAM_ID`` config value.
    :param key_id: The ID of the Sign in with Apple private key. Default: the
        ``APPLE_OAUTH_KEY_ID`` config value.
    :param private_key: The private key: the text of the ``.p8`` file. Default:
        the ``APPLE_OAUTH_PRIVATE_KEY`` config value.
    :param scope: The scopes to ask for: ``name``, ``email``, both or none.
        Default: ``"name email"``.
    """
    scopes = _base.scope_list(scope)
    form_post = bool(FORM_POST_SCOPES.intersection(scopes))
    return _base.oauth2_blueprint(
        "apple",
        __name__,
        locals(),
        configured=("team_id", "key_id", "private_key"),
        blueprint_class=AppleBlueprint,
        issuer=ISSUER,
        scope=scopes,
        response_mode="form_post" if form_post else None,
        credentials_in_body=True,
        id_token_algorithms=("RS256",),
        revocation_url=REVOCATION_URL,
    )


#: The session of the current request, for the ``apple`` blueprint.
apple: OAuth2Session = _base.session_proxy("apple")  # type: ignore[assignment]
