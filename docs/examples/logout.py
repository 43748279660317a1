import os

from flask import Flask, redirect, render_template_string, session, url_for
from flask_dance.contrib.oidc import make_oidc_blueprint

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["ACME_OAUTH_CLIENT_ID"] = os.environ["ACME_OAUTH_CLIENT_ID"]
app.config["ACME_OAUTH_CLIENT_SECRET"] = os.environ["ACME_OAUTH_CLIENT_SECRET"]
acme_blueprint = make_oidc_blueprint("acme", issuer=os.environ["ACME_ISSUER"])
app.register_blueprint(acme_blueprint, url_prefix="/login")

PAGE = """
<p>Signed in as {{ claims.email }}.</p>
<form method="post" action="{{ url_for('logout') }}">
  <button>Log out of this app</button>
</form>
<form method="post" action="{{ url_for('logout_everywhere') }}">
  <button>Log out of this app and of Acme</button>
</form>
"""


@app.route("/")
def index():
    claims = acme_blueprint.id_token_claims
    if claims is None:
        return redirect(url_for("acme.login"))
    return render_template_string(PAGE, claims=claims)


@app.post("/logout")
def logout():
    # Local logout: forget the token and everything this app knows about the
    # user. The user stays signed in at Acme.
    del acme_blueprint.token
    session.clear()
    return redirect(url_for("index"))


@app.post("/logout/everywhere")
def logout_everywhere():
    # Provider logout: the blueprint's logout view revokes and forgets the
    # token, then sends the user to Acme's end-session endpoint, which sends
    # them back to /login/acme/logged-out and from there to "next".
    return redirect(url_for("acme.logout", next=url_for("index")))
