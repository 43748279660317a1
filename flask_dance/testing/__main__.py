"""Run the local provider until interrupted: ``python -m flask_dance.testing``."""

from __future__ import annotations

import argparse
import sys

from .._shutdown import StopSignals
from .provider import LocalProvider


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flask_dance.testing",
        description="Serve a local OAuth 1 / OAuth 2 / OpenID Connect provider.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", action="store_true", help="serve HTTPS")
    parser.add_argument(
        "--auto-approve", action="store_true", help="skip the consent page"
    )
    parser.add_argument(
        "--post-logout-redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="also accept this post_logout_redirect_uri for the test client"
        " (repeat for several), such as"
        " http://localhost:5000/login/acme/logged-out",
    )
    return parser


def make_provider(argv: list[str] | None = None) -> LocalProvider:
    """The provider the command line asks for, not started yet.

    :param argv: Command-line arguments; ``sys.argv[1:]`` when omitted.
    """
    args = _parser().parse_args(argv)
    provider = LocalProvider(
        host=args.host, port=args.port, tls=args.tls, auto_approve=args.auto_approve
    )
    client = provider.clients[provider.default_client_id]
    client.post_logout_redirect_uris.extend(args.post_logout_redirect_uri)
    return provider


def main(argv: list[str] | None = None) -> int:
    """Serve a :class:`LocalProvider` in the foreground for demos, until
    SIGINT (Ctrl+C) or SIGTERM.

    :param argv: Command-line arguments; ``sys.argv[1:]`` when omitted.
    """
    provider = make_provider(argv)
    with StopSignals() as stop, provider:
        kwargs = provider.blueprint_kwargs()
        print(f"Local provider: {provider.url}", flush=True)
        print(f"Discovery: {provider.discovery_url}")
        print(f"OAuth 2 client: {kwargs['client_id']} / {kwargs['client_secret']}")
        oauth1 = provider.oauth1_blueprint_kwargs()
        print(f"OAuth 1 consumer: {oauth1['client_key']} / {oauth1['client_secret']}")
        if provider.ca_file:
            print(f"CA certificate: {provider.ca_file}")
        print("Press Ctrl+C to stop.", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
