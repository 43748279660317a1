import os

from flask import Flask, flash, redirect, render_template_string, url_for
from flask_dance.consumer import oauth_authorized, oauth_error
from flask_dance.contrib.github import make_github_blueprint, github

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["GITHUB_OAUTH_CLIENT_ID"] = os.environ["GITHUB_OAUTH_CLIENT_ID"]
app.config["GITHUB_OAUTH_CLIENT_SECRET"] = os.environ["GITHUB_OAUTH_CLIENT_SECRET"]
github_blueprint = make_github_blueprint(redirect_to="index")
app.register_blueprint(github_blueprint, url_prefix="/login")

# [template]
PAGE = """<!doctype html>
<title>My app</title>
{% for category, message in get_flashed_messages(with_categories=true) %}
  <p class="flash {{ category }}">{{ message }}</p>
{% endfor %}
{% if user %}
  <p>Signed in as <strong>{{ user.login }}</strong>.</p>
  <form method="post" action="{{ url_for('logout') }}">
    <button>Log out</button>
  </form>
{% else %}
  <a class="button" href="{{ url_for('github.login', next=request.path) }}">
    Sign in with GitHub
  </a>
{% endif %}
"""
# [template end]


@oauth_authorized.connect_via(github_blueprint)
def github_logged_in(blueprint, token):
    flash("Signed in with GitHub.", "info")


@oauth_error.connect_via(github_blueprint)
def github_error(blueprint, error, error_description=None, **kwargs):
    flash(f"GitHub sign-in failed: {error_description or error}", "error")


# [view]
@app.route("/")
def index():
    user = None
    if github.authorized:
        resp = github.get("/user")
        if resp.ok:
            user = resp.json()
        else:
            flash("GitHub did not answer; please sign in again.", "error")
    return render_template_string(PAGE, user=user)


# [view end]


@app.post("/logout")
def logout():
    del github_blueprint.token
    return redirect(url_for("index"))
