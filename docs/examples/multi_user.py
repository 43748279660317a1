import os

from flask import Flask, flash, redirect, url_for
from flask_caching import Cache
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_dance.consumer import oauth_authorized, oauth_error
from flask_dance.consumer.storage.sqla import OAuthConsumerMixin, SQLAlchemyStorage
from flask_dance.contrib.github import make_github_blueprint
from flask_dance.contrib.google import make_google_blueprint

# [models]
db = SQLAlchemy()


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(256))


class OAuth(OAuthConsumerMixin, db.Model):
    __table_args__ = (db.UniqueConstraint("provider", "provider_user_id"),)
    provider_user_id = db.Column(db.String(256), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey(User.id), nullable=False)
    user = db.relationship(User)


# [models end]
# [blueprints]
cache = Cache()
login_manager = LoginManager()

github_blueprint = make_github_blueprint(
    storage=SQLAlchemyStorage(OAuth, db.session, user=current_user, cache=cache),
)
google_blueprint = make_google_blueprint(
    scope=["openid", "https://www.googleapis.com/auth/userinfo.profile"],
    storage=SQLAlchemyStorage(OAuth, db.session, user=current_user, cache=cache),
)


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


# [blueprints end]
# [logged in]
def provider_identity(blueprint):
    """Who the user is at the provider: a stable id, and a name."""
    if blueprint.name == "github":
        resp = blueprint.session.get("/user")
        resp.raise_for_status()
        info = resp.json()
        return str(info["id"]), info["login"]
    resp = blueprint.session.get("/oauth2/v2/userinfo")
    resp.raise_for_status()
    info = resp.json()
    return str(info["id"]), info["name"]


@oauth_authorized.connect_via(github_blueprint)
@oauth_authorized.connect_via(google_blueprint)
def logged_in(blueprint, token):
    provider_user_id, name = provider_identity(blueprint)
    oauth = db.session.execute(
        db.select(OAuth).filter_by(
            provider=blueprint.name, provider_user_id=provider_user_id
        )
    ).scalar_one_or_none()
    if oauth is None:
        oauth = OAuth(provider=blueprint.name, provider_user_id=provider_user_id)
    oauth.token = token

    if current_user.is_authenticated:
        # Signed in already: link this provider account to the current user.
        if oauth.user is not None and oauth.user.id != current_user.id:
            flash(f"That {blueprint.name} account belongs to another user.")
            return False
        oauth.user = db.session.get(User, current_user.id)
    elif oauth.user is None:
        # First visit with this provider account: make a local user.
        oauth.user = User(name=name)

    db.session.add(oauth)
    db.session.commit()
    login_user(oauth.user)
    flash(f"Signed in with {blueprint.name} as {oauth.user.name}.")
    # The token is stored: tell Flask-Dance not to store it again.
    return False


@oauth_error.connect_via(github_blueprint)
@oauth_error.connect_via(google_blueprint)
def login_failed(blueprint, error, error_description=None, **kwargs):
    flash(f"Signing in with {blueprint.name} failed: {error}.")


# [logged in end]
# [app]
def create_app(config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY"),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///app.db"),
        CACHE_TYPE="RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache",
        CACHE_REDIS_URL=os.environ.get("REDIS_URL"),
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    # Secrets such as FLASK_GITHUB_OAUTH_CLIENT_SECRET become config keys.
    app.config.from_prefixed_env()
    app.config.update(config or {})
    # One proxy in front of the app sets X-Forwarded-Proto and -Host.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)

    db.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(github_blueprint, url_prefix="/login")
    app.register_blueprint(google_blueprint, url_prefix="/login")

    @app.route("/")
    def index():
        if not current_user.is_authenticated:
            return "Sign in with GitHub or Google."
        linked = db.session.execute(
            db.select(OAuth.provider).filter_by(user_id=current_user.id)
        ).scalars()
        return f"{current_user.name}: {', '.join(sorted(linked))}"

    @app.route("/logout")
    def logout():
        logout_user()
        return redirect(url_for("index"))

    with app.app_context():
        db.create_all()
    return app


# [app end]
