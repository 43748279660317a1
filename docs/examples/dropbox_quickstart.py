import os

from flask import Flask, redirect, url_for
from flask_dance.contrib.dropbox import make_dropbox_blueprint, dropbox

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["DROPBOX_OAUTH_CLIENT_ID"] = os.environ["DROPBOX_APP_KEY"]
app.config["DROPBOX_OAUTH_CLIENT_SECRET"] = os.environ["DROPBOX_APP_SECRET"]
dropbox_blueprint = make_dropbox_blueprint(
    scope=["account_info.read"], redirect_to="index"
)
app.register_blueprint(dropbox_blueprint, url_prefix="/login")


@app.route("/")
def index():
    if not dropbox.authorized:
        return redirect(url_for("dropbox.login"))
    resp = dropbox.post("users/get_current_account")
    resp.raise_for_status()
    return f"You are {resp.json()['name']['display_name']} on Dropbox"
