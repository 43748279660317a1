from flask import Flask, current_app, flash, redirect, url_for
from flask_dance.consumer import oauth_authorized, oauth_before_login, oauth_error
from flask_dance.contrib.github import make_github_blueprint

app = Flask(__name__)
app.config.from_prefixed_env()
github_blueprint = make_github_blueprint(redirect_to="index")
app.register_blueprint(github_blueprint, url_prefix="/login")

#: GitHub logins that may not use this app.
BLOCKED = {"spammer"}


@app.route("/")
def index():
    return "Home"


# [before login]
@oauth_before_login.connect_via(github_blueprint)
def github_before_login(blueprint, url):
    current_app.logger.info("Sending a user to %s to sign in.", blueprint.name)


# [before login end]
# [authorized]
@oauth_authorized.connect_via(github_blueprint)
def github_logged_in(blueprint, token):
    resp = blueprint.session.get("/user")
    resp.raise_for_status()
    login = resp.json()["login"]
    if login in BLOCKED:
        flash("This account may not sign in here.")
        return False  # do not store the token
    flash(f"Signed in as {login}.")


# [authorized end]
# [error]
@oauth_error.connect_via(github_blueprint)
def github_error(blueprint, error, error_description=None, **kwargs):
    if error == "access_denied":
        flash("You cancelled the sign-in.")
    else:
        flash("Signing in with GitHub did not work. Please try again.")
    return redirect(url_for("index"))


# [error end]
