import os
from pathlib import Path

import pytest
from betamax import Betamax

# app.py reads these when it is imported.
os.environ.setdefault("FLASK_SECRET_KEY", "tests")
os.environ.setdefault("GITHUB_OAUTH_CLIENT_ID", "test-id")
os.environ.setdefault("GITHUB_OAUTH_CLIENT_SECRET", "test-secret")

# A real token is needed only to record; replays use the placeholder.
GITHUB_TOKEN = os.environ.get("GITHUB_TEST_TOKEN", "fake-token")

with Betamax.configure() as config:
    config.cassette_library_dir = str(Path(__file__).parent / "cassettes")
    config.default_cassette_options["record_mode"] = "once"
    config.define_cassette_placeholder("<GITHUB-TOKEN>", GITHUB_TOKEN)


@pytest.fixture
def app():
    from app import app

    return app


@pytest.fixture
def flask_dance_sessions():
    from app import github

    return github
