from flask_dance.consumer.storage import MemoryStorage

from app import github_blueprint
from conftest import GITHUB_TOKEN


def test_index_with_the_recorded_github_api(betamax_record_flask_dance, monkeypatch):
    storage = MemoryStorage({"access_token": GITHUB_TOKEN, "token_type": "bearer"})
    monkeypatch.setattr(github_blueprint, "storage", storage)

    with betamax_record_flask_dance.test_client() as client:
        response = client.get("/")

    assert response.status_code == 200
    assert "@" in response.get_data(as_text=True)
