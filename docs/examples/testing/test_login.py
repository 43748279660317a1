from local_app import create_app


def test_login_with_the_local_provider(local_provider, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app = create_app(local_provider)

    with app.test_client() as client:
        response = client.get("/login/local")
        # Play the user: open the consent page and approve as monalisa.
        result = local_provider.authorize(response.headers["Location"], user="monalisa")
        response = client.get(result.url)
        assert response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)

    assert page == "Signed in as monalisa@example.com mona@example.org"


def test_denied_login(local_provider, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app = create_app(local_provider)

    with app.test_client() as client:
        response = client.get("/login/local")
        result = local_provider.authorize(response.headers["Location"], approve=False)
        assert result.params["error"] == "access_denied"
        client.get(result.url)
        # No token: the home page starts a new login.
        assert client.get("/").headers["Location"] == "/login/local"
