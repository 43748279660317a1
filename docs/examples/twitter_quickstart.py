import os

from flask import Flask, redirect, url_for
from flask_dance.consumer import OAuth1ConsumerBlueprint

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["TWITTER_OAUTH_CLIENT_KEY"] = os.environ["TWITTER_API_KEY"]
app.config["TWITTER_OAUTH_CLIENT_SECRET"] = os.environ["TWITTER_API_SECRET"]
twitter_blueprint = OAuth1ConsumerBlueprint(
    "twitter",
    __name__,
    base_url="https://api.x.com/1.1/",
    request_token_url="https://api.x.com/oauth/request_token",
    authorization_url="https://api.x.com/oauth/authorize",
    access_token_url="https://api.x.com/oauth/access_token",
    redirect_to="index",
)
twitter_blueprint.from_config["client_key"] = "TWITTER_OAUTH_CLIENT_KEY"
twitter_blueprint.from_config["client_secret"] = "TWITTER_OAUTH_CLIENT_SECRET"
app.register_blueprint(twitter_blueprint, url_prefix="/login")


@app.route("/")
def index():
    twitter = twitter_blueprint.session
    if not twitter.authorized:
        return redirect(url_for("twitter.login"))
    resp = twitter.get("account/verify_credentials.json")
    resp.raise_for_status()
    return f"You are @{resp.json()['screen_name']} on X"
