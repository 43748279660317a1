from flask import Flask, redirect, session, url_for
from flask_dance.consumer import oauth_authorized
from flask_dance.contrib.github import make_github_blueprint, github

# [blueprint]
github_blueprint = make_github_blueprint(scope="user:email", redirect_to="index")
# [blueprint end]

app = Flask(__name__)
app.config.from_prefixed_env()
app.register_blueprint(github_blueprint, url_prefix="/login")


@app.route("/")
def index():
    return "Home"


# [next]
@app.route("/settings")
def settings():
    if not github.authorized:
        return redirect(url_for("github.login", next=url_for("settings")))
    resp = github.get("/user")
    resp.raise_for_status()
    return f"Settings of @{resp.json()['login']}"


# [next end]
# [receiver]
@oauth_authorized.connect_via(github_blueprint)
def welcome_first_login(blueprint, token):
    if not session.get("welcomed"):
        session["welcomed"] = True
        # A returned response replaces the redirect and skips storing the
        # token, so store it here.
        blueprint.token = token
        return redirect(url_for("welcome"))


# [receiver end]
@app.route("/welcome")
def welcome():
    return "Welcome!"
