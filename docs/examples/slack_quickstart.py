import os

from flask import Flask, redirect, url_for
from flask_dance.contrib.slack import make_slack_blueprint, slack

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["SLACK_OAUTH_CLIENT_ID"] = os.environ["SLACK_OAUTH_CLIENT_ID"]
app.config["SLACK_OAUTH_CLIENT_SECRET"] = os.environ["SLACK_OAUTH_CLIENT_SECRET"]
slack_blueprint = make_slack_blueprint(
    v2=True, user_scope=["users:read"], redirect_to="index"
)
app.register_blueprint(slack_blueprint, url_prefix="/login")


@app.route("/")
def index():
    if not slack.authorized:
        return redirect(url_for("slack.login"))
    answer = slack.get("auth.test").json()
    if not answer.get("ok"):
        return f"Slack refused: {answer.get('error')}", 502
    return f"You are {answer['user']} in the {answer['team']} workspace"
