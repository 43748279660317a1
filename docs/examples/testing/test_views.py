import responses
from flask_dance.consumer.storage import MemoryStorage

from app import app, github_blueprint


def test_index_lists_the_users_emails(monkeypatch):
    storage = MemoryStorage({"access_token": "fake-token", "token_type": "bearer"})
    monkeypatch.setattr(github_blueprint, "storage", storage)

    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://api.github.com/user/emails",
            json=[{"email": "octocat@example.com"}],
        )
        with app.test_client() as client:
            response = client.get("/")
        sent = rsps.calls[0].request

    assert response.get_data(as_text=True) == "octocat@example.com"
    assert sent.headers["Authorization"] == "Bearer fake-token"


def test_index_without_a_token_starts_the_login(monkeypatch):
    monkeypatch.setattr(github_blueprint, "storage", MemoryStorage())

    with app.test_client() as client:
        response = client.get("/")

    assert response.headers["Location"] == "/login/github"
