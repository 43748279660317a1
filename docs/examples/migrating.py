from flask import flash, g
from flask_dance import OAuth2ConsumerBlueprint
from flask_dance.consumer import oauth_authorized
from flask_dance.consumer.storage import BaseStorage


def make_old_style_blueprint(db):
    # [old]
    github_blueprint = OAuth2ConsumerBlueprint(
        "github",
        __name__,
        client_key="my-key-here",
        client_secret="my-secret-here",
        request_token_params={"scope": "user:email"},
        base_url="https://api.github.com",
        access_token_url="https://github.com/login/oauth/access_token",
        authorize_url="https://github.com/login/oauth/authorize",
        redirect_to="index",
    )

    @github_blueprint.token_getter
    def get_github_token():
        return g.user.github_token

    @github_blueprint.token_setter
    def set_github_token(token):
        g.user.github_token = token
        db.session.commit()

    @github_blueprint.token_deleter
    def delete_github_token():
        g.user.github_token = None
        db.session.commit()

    @github_blueprint.logged_in
    def github_logged_in(token):
        flash("Signed in successfully!")

    # [old end]
    return github_blueprint


def make_new_style_blueprint(db):
    # [new]
    class UserColumnStorage(BaseStorage):
        def get(self, blueprint):
            return g.user.github_token

        def set(self, blueprint, token):
            g.user.github_token = token
            db.session.commit()

        def delete(self, blueprint):
            g.user.github_token = None
            db.session.commit()

    github_blueprint = OAuth2ConsumerBlueprint(
        "github",
        __name__,
        client_id="my-key-here",
        client_secret="my-secret-here",
        scope="user:email",
        base_url="https://api.github.com",
        token_url="https://github.com/login/oauth/access_token",
        authorization_url="https://github.com/login/oauth/authorize",
        redirect_to="index",
        storage=UserColumnStorage(),
    )

    @oauth_authorized.connect_via(github_blueprint)
    def github_logged_in(blueprint, token):
        # Sent before the token is stored; return False to keep it out.
        flash("Signed in successfully!")

    # [new end]
    return github_blueprint
