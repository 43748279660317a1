import os

from flask import Flask, flash, redirect, request, url_for
from flask_dance.consumer import oauth_refresh_failed
from flask_dance.contrib.oidc import make_oidc_blueprint

app = Flask(__name__)
app.config.from_prefixed_env()
acme_blueprint = make_oidc_blueprint(
    "acme", issuer=os.environ["ACME_ISSUER"], scope="openid profile email"
)
app.register_blueprint(acme_blueprint, url_prefix="/login")


# [refresh failed]
@oauth_refresh_failed.connect_via(acme_blueprint)
def acme_refresh_failed(blueprint, error, token):
    flash("Your Acme session has ended. Please sign in again.")
    return redirect(url_for("acme.login", next=request.path))


# [refresh failed end]
@app.route("/")
def index():
    if not acme_blueprint.session.authorized:
        return redirect(url_for("acme.login"))
    # The session refreshes the token first when it expires within a minute.
    info = acme_blueprint.userinfo()
    return f"Signed in as {info['email']}"


# [disconnect]
@app.route("/disconnect", methods=["POST"])
def disconnect():
    """Give the token back, but stay signed in at the provider."""
    acme_blueprint.revoke_token()
    del acme_blueprint.token
    return redirect(url_for("index"))


# [disconnect end]
