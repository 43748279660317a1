import os

from flask import Flask, flash, redirect, url_for
from flask_dance.consumer import oauth_authorized
from flask_dance.contrib.github import make_github_blueprint, github

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["GITHUB_OAUTH_CLIENT_ID"] = os.environ["GITHUB_OAUTH_CLIENT_ID"]
app.config["GITHUB_OAUTH_CLIENT_SECRET"] = os.environ["GITHUB_OAUTH_CLIENT_SECRET"]
github_blueprint = make_github_blueprint(scope="user:email", redirect_to="index")
app.register_blueprint(github_blueprint, url_prefix="/login")


@oauth_authorized.connect_via(github_blueprint)
def github_logged_in(blueprint, token):
    flash("Signed in with GitHub.")


@app.route("/")
def index():
    if not github.authorized:
        return redirect(url_for("github.login"))
    resp = github.get("/user/emails")
    assert resp.ok
    emails = [result["email"] for result in resp.json()]
    return " ".join(emails)
