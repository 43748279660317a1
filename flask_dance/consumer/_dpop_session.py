"""DPoP on a provider session's API requests (RFC 9449 7): the bound access
token with a fresh proof, once more with the resource server's nonce when it
asks for one."""

from __future__ import annotations

import typing as t

import requests
import requests.adapters
import requests.cookies
import requests.structures

from ._session_base import OAuth2SessionHost

if t.TYPE_CHECKING:  # pragma: no cover
    pass


def _asks_for_dpop_nonce(response: requests.Response) -> bool:
    """Whether a resource server refused a DPoP request for want of a nonce
    (RFC 9449 9)."""
    return (
        response.status_code == 401
        and bool(response.headers.get("DPoP-Nonce"))
        and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    )


class DPoPSessionMixin(OAuth2SessionHost):
    """DPoP on the requests of :class:`~.requests.OAuth2Session`."""

    def _dpop_headers(
        self, url: str, method: str, headers: t.Any, prover: t.Any
    ) -> dict[str, t.Any]:
        """The request's headers with the DPoP-bound access token and a new
        proof for it (RFC 9449 7.1)."""
        access_token = str(self.token.get("access_token") or "")
        sent = dict(headers or {})
        sent["Authorization"] = f"DPoP {access_token}"
        sent["DPoP"] = prover.proof(method, url, access_token=access_token)
        return sent

    def _send_with_dpop(
        self,
        method: str,
        url: str,
        headers: t.Any,
        sent: dict[str, t.Any],
        data: t.Any,
        prover: t.Any,
        kwargs: dict[str, t.Any],
    ) -> requests.Response:
        """Send a DPoP request; once more with the resource server's nonce
        when it asks for one."""
        response = requests.Session.request(
            self, method, url, headers=sent, data=data, **kwargs
        )
        prover.remember_nonce(url, response)
        if _asks_for_dpop_nonce(response):
            response.close()
            sent = self._dpop_headers(url, method, headers, prover)
            response = requests.Session.request(
                self, method, url, headers=sent, data=data, **kwargs
            )
            prover.remember_nonce(url, response)
        return response
