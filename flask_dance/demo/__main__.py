"""``python -m flask_dance.demo``: the local provider and the demo app together.

See :mod:`flask_dance.demo` for the options and environment variables.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import threading
import typing as t

from .._shutdown import StopSignals
from . import create_app
from . import DEMO_CLIENT_ID
from . import make_server
from . import register_demo_client

if t.TYPE_CHECKING:  # pragma: no cover
    from ..testing import LocalProvider

log: logging.Logger = logging.getLogger("flask_dance.demo")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0 to 65535)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flask_dance.demo",
        description=(
            "Log in with OpenID Connect against a local provider: starts the"
            " provider and a small demo app on 127.0.0.1."
        ),
    )
    parser.add_argument(
        "--port", type=_port, default=5000, help="the demo app's port (0: any free)"
    )
    parser.add_argument(
        "--provider-port",
        type=_port,
        default=5001,
        help="the local provider's port (0: any free)",
    )
    parser.add_argument(
        "--form-post",
        action="store_true",
        help="ask the provider for response_mode=form_post",
    )
    return parser


def main(argv: t.Sequence[str] | None = None) -> int:
    """Run the demo until interrupted.

    :param argv: The command line arguments, without the program name.
    :return: The exit status.
    """
    args = _parser().parse_args(argv)
    with StopSignals() as stop:
        return _run(args, stop)


def _run(args: argparse.Namespace, stop: StopSignals) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    # Both servers speak plain HTTP on the loopback interface; oauthlib
    # refuses that unless told it is a development setup.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    response_mode = "form_post" if args.form_post else None

    issuer = os.environ.get("FLASK_DANCE_DEMO_ISSUER")
    provider: LocalProvider | None = None
    if issuer:
        client_id = os.environ.get("FLASK_DANCE_DEMO_CLIENT_ID")
        if not client_id:
            print(
                "FLASK_DANCE_DEMO_ISSUER is set: set FLASK_DANCE_DEMO_CLIENT_ID"
                " (and FLASK_DANCE_DEMO_CLIENT_SECRET) too.",
                file=sys.stderr,
            )
            return 2
        client_secret = os.environ.get("FLASK_DANCE_DEMO_CLIENT_SECRET") or None
        api_path = os.environ.get("FLASK_DANCE_DEMO_API_PATH") or None
    else:
        from ..testing import LocalProvider

        provider = LocalProvider(port=args.provider_port)
        try:
            provider.start()
        except OSError as exc:
            print(f"Could not start the local provider: {exc}", file=sys.stderr)
            return 1
        issuer = provider.issuer
        client_id = DEMO_CLIENT_ID
        client_secret = secrets.token_urlsafe(24)
        api_path = "user"

    try:
        app = create_app(
            issuer,
            client_id,
            client_secret,
            response_mode=response_mode,
            api_path=api_path,
        )
        try:
            server = make_server(app, "127.0.0.1", args.port)
        except OSError as exc:
            print(f"Could not start the demo app: {exc}", file=sys.stderr)
            return 1
        app_url = f"http://127.0.0.1:{server.server_port}"
        if provider is not None:
            register_demo_client(provider, app_url, client_id, client_secret)
            print(f"Local provider: {provider.issuer}", flush=True)
        print(f"Demo app: open {app_url}/ in your browser (Ctrl+C to stop)", flush=True)
        serving = threading.Thread(
            target=server.serve_forever, name="flask-dance-demo", daemon=True
        )
        serving.start()
        try:
            stop.wait()
        finally:
            server.shutdown()
            serving.join(timeout=10)
            server.server_close()
    finally:
        if provider is not None:
            provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
