import os

from flask import Flask, redirect, url_for
from flask_dance.contrib.twitter import make_twitter_blueprint, twitter

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
# The API key and secret (consumer keys) mean OAuth 1.0a.
app.config["TWITTER_OAUTH_CLIENT_KEY"] = os.environ["TWITTER_API_KEY"]
app.config["TWITTER_OAUTH_CLIENT_SECRET"] = os.environ["TWITTER_API_SECRET"]
twitter_blueprint = make_twitter_blueprint(redirect_to="index")
app.register_blueprint(twitter_blueprint, url_prefix="/login")


@app.route("/")
def index():
    if not twitter.authorized:
        return redirect(url_for("twitter.login"))
    resp = twitter.get("account/verify_credentials.json")
    resp.raise_for_status()
    return f"You are @{resp.json()['screen_name']} on X"
