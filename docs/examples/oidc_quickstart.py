import os

from flask import Flask, redirect, url_for
from flask_dance.contrib.oidc import make_oidc_blueprint

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["ACME_OAUTH_CLIENT_ID"] = os.environ["ACME_OAUTH_CLIENT_ID"]
app.config["ACME_OAUTH_CLIENT_SECRET"] = os.environ["ACME_OAUTH_CLIENT_SECRET"]
acme_blueprint = make_oidc_blueprint(
    "acme", issuer=os.environ["ACME_ISSUER"], logout=True
)
app.register_blueprint(acme_blueprint, url_prefix="/login")


@app.route("/")
def index():
    claims = acme_blueprint.id_token_claims
    if claims is None:
        return redirect(url_for("acme.login"))
    info = acme_blueprint.userinfo()
    logout = url_for("acme.logout", logout_token=acme_blueprint.logout_token)
    return (
        f"You are {info['email']} (subject {claims['sub']} at {claims['iss']})."
        f' <a href="{logout}">Log out</a>'
    )
