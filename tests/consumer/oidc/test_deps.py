from __future__ import annotations

import subprocess
import sys

import pytest

from flask_dance.consumer.oidc import require_oidc_dependencies


def test_dependencies_present() -> None:
    require_oidc_dependencies()


@pytest.mark.parametrize(
    ("blocked", "named"),
    [(["jwt"], "'PyJWT'"), (["cryptography"], "'cryptography'")],
)
def test_missing_dependency_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, blocked: list[str], named: str
) -> None:
    for module in blocked:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install Flask-Dance\[oidc\]") as exc:
        require_oidc_dependencies()
    assert named in str(exc.value)


def test_importing_the_package_without_pyjwt_is_clear() -> None:
    code = (
        "import sys; sys.modules['jwt'] = None\n"
        "try:\n"
        "    import flask_dance.consumer.oidc\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "'PyJWT'" in out
    assert "pip install Flask-Dance[oidc]" in out
