import os

from flask import Flask, redirect, render_template_string, session, url_for
from flask_dance.contrib.oidc import make_oidc_blueprint

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["ACME_OAUTH_CLIENT_ID"] = os.environ["ACME_OAUTH_CLIENT_ID"]
app.config["ACME_OAUTH_CLIENT_SECRET"] = os.environ["ACME_OAUTH_CLIENT_SECRET"]
acme_blueprint = make_oidc_blueprint(
    "acme", issuer=os.environ["ACME_ISSUER"], logout=True
)
app.register_blueprint(acme_blueprint, url_prefix="/login")

PAGE = """
<p>Signed in as {{ claims.email }}.</p>
<form method="post" action="{{ url_for('logout') }}">
  <button>Log out of this app</button>
</form>
<form method="post" action="{{ url_for('acme.logout', next=url_for('index')) }}">
  <input type="hidden" name="logout_token" value="{{ logout_token }}">
  <button>Log out of this app and of Acme</button>
</form>
"""


@app.route("/")
def index():
    claims = acme_blueprint.id_token_claims
    if claims is None:
        return redirect(url_for("acme.login"))
    return render_template_string(
        PAGE, claims=claims, logout_token=acme_blueprint.logout_token
    )


@app.post("/logout")
def logout():
    # Local logout: forget the token and everything this app knows about the
    # user. The user stays signed in at Acme.
    del acme_blueprint.token
    session.clear()
    return redirect(url_for("index"))
