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
    return f"You are {info['email']} (subject {claims['sub']} at {claims['iss']})"


@app.route("/logout")
def logout():
    # The blueprint's logout view acts only on a request that carries this
    # browser's logout token, so that no other site can log your users out.
    return (
        f'<form method="post" action="{url_for("acme.logout")}">'
        f'<input type="hidden" name="logout_token"'
        f' value="{acme_blueprint.logout_token}">'
        "<button>Log out of this app and of Acme</button></form>"
    )
