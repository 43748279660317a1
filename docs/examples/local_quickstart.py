import os
import secrets

from flask import Flask, redirect, url_for
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.testing import LocalProvider


def create_app(provider):
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    blueprint = OAuth2ConsumerBlueprint(
        "local", __name__, scope="profile email", **provider.blueprint_kwargs()
    )
    app.register_blueprint(blueprint, url_prefix="/login")

    @app.route("/")
    def index():
        if not blueprint.session.authorized:
            return redirect(url_for("local.login"))
        resp = blueprint.session.get("/user/emails")
        resp.raise_for_status()
        emails = [result["email"] for result in resp.json()]
        return "Signed in as " + " ".join(emails)

    return app


if __name__ == "__main__":
    # Both servers speak plain HTTP on 127.0.0.1 only. Never set this in
    # an app that other machines can reach.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    with LocalProvider(port=5001) as provider:
        create_app(provider).run(host="127.0.0.1", port=5000)
