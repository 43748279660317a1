"""The package's imports: what importing it costs (no OpenID Connect or
encryption dependency is loaded before it is used), and its layering (no
module imports a module that imports it back, however indirectly)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import flask_dance
import flask_dance.contrib

#: Packages that only OpenID Connect and token encryption need.
HEAVY = ("jwt", "cryptography")

#: Modules an app imports without using OpenID Connect or encryption.
LIGHT_MODULES = (
    "flask_dance",
    "flask_dance.consumer",
    "flask_dance.consumer.storage",
    "flask_dance.consumer.storage.session",
    "flask_dance.consumer.storage.sqla",
    *(
        f"flask_dance.contrib.{info.name}"
        for info in pkgutil.iter_modules(flask_dance.contrib.__path__)
        if not info.name.startswith("_")
    ),
)

#: Run in a fresh interpreter: import each module in turn and name the
#: first one after which a heavy package is loaded.
_PROBE = """
import importlib, json, sys
heavy = tuple(sys.argv[2].split(","))
for name in sys.argv[1].split(","):
    importlib.import_module(name)
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
    if loaded:
        print(json.dumps({"module": name, "loaded": loaded}))
        break
else:
    print(json.dumps(None))
"""


def _run_fresh(code: str, *args: str) -> str:
    """What ``code`` prints, run in a fresh interpreter with ``args``."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def _first_heavy_import(modules: tuple[str, ...]) -> object:
    return json.loads(_run_fresh(_PROBE, ",".join(modules), ",".join(HEAVY)))


def test_importing_the_package_and_presets_loads_no_oidc_dependency() -> None:
    assert _first_heavy_import(LIGHT_MODULES) is None


def test_the_probe_notices_a_heavy_import() -> None:
    # The check above would pass vacuously if the probe could not see one.
    found = _first_heavy_import(("flask_dance", "flask_dance.consumer.oidc"))
    assert found == {"module": "flask_dance.consumer.oidc", "loaded": sorted(HEAVY)}


# -- no import circles -----------------------------------------------------------

#: The package's root directory.
PACKAGE = Path(flask_dance.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, path: Path, tree: ast.AST, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports, wherever the import
    statement stands: at the top, under ``TYPE_CHECKING``, or in a function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports that module.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # ``import a.b.c`` of a name that is no module: its package.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package's modules it imports."""
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {
        module: _imported(module, path, ast.parse(path.read_text("utf-8")), known)
        for module, path in paths.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circles() -> None:
    # A module imports only modules below it: the rule holds for every import
    # statement, at the top of a module, under TYPE_CHECKING, or deferred into
    # a function, since each of them is a dependency. A package's
    # ``__init__`` that re-exports its modules stands above them.
    assert circles(import_graph()) == []


def test_circles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]


def test_the_import_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # top level, relative
    assert "flask_dance.consumer.oauth2" in graph["flask_dance.consumer"]
    # ``from . import module``
    assert "flask_dance.contrib._base" in graph["flask_dance.contrib.github"]
    # inside a function
    assert "flask_dance.consumer.oidc" in graph["flask_dance.consumer._openid"]


#: The token encryption of the storages, loaded when keys are configured or a
#: sealed token is read.
CRYPTO = "flask_dance.consumer.storage._crypto"

#: The work of back-channel logout, loaded when a blueprint that has it on
#: checks a token or receives a logout token.
BACKCHANNEL = "flask_dance.consumer._backchannel_logout"

#: Modules that the import of OAuth 2 presets and SQLAlchemyStorage leaves for
#: their first use: the OAuth 1 session and blueprint, the refresh lock, the
#: bounded token-side calls, token encryption and back-channel logout.
ON_FIRST_USE = (
    "flask_dance.consumer._oauth1_session",
    "flask_dance.consumer.storage.sqla._lock",
    "flask_dance.consumer.oauth1",
    "flask_dance.consumer._bounded",
    CRYPTO,
    BACKCHANNEL,
)


def test_rarely_used_modules_are_imported_on_first_use() -> None:
    code = (
        "import sys, flask_dance.contrib.github, flask_dance.contrib.google\n"
        "from flask_dance.consumer.storage.sqla import SQLAlchemyStorage\n"
        f"print(sorted(set(sys.modules) & set({ON_FIRST_USE!r})))\n"
        "from flask_dance.consumer import OAuth1Session\n"
        "print(OAuth1Session.__module__)\n"
        "from flask_dance import OAuth1ConsumerBlueprint\n"
        "print(OAuth1ConsumerBlueprint.__module__)\n"
    )
    assert _run_fresh(code).split() == ["[]", ON_FIRST_USE[0], ON_FIRST_USE[2]]


def test_star_imports_include_what_loads_on_first_use() -> None:
    code = (
        "from flask_dance.consumer import *\n"
        "print(OAuth1ConsumerBlueprint.__name__, OAuth1Session.__name__)\n"
        "from flask_dance import *\n"
        "print(OAuth1ConsumerBlueprint.__module__)\n"
    )
    assert _run_fresh(code).split() == [
        "OAuth1ConsumerBlueprint",
        "OAuth1Session",
        "flask_dance.consumer.oauth1",
    ]


def test_what_loads_on_first_use_is_there_as_after_7_1s_import() -> None:
    code = (
        "import flask_dance, flask_dance.consumer as consumer\n"
        "print('OAuth1ConsumerBlueprint' in dir(flask_dance))\n"
        "print(all(n in dir(consumer) for n in"
        " ('OAuth1ConsumerBlueprint', 'OAuth1Session', 'oauth1')))\n"
        "print(consumer.oauth1.OAuth1ConsumerBlueprint is"
        " consumer.OAuth1ConsumerBlueprint)\n"
    )
    assert _run_fresh(code).split() == ["True", "True", "True"]


def test_unknown_attributes_are_still_attribute_errors() -> None:
    import flask_dance.consumer

    for module in (flask_dance, flask_dance.consumer):
        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            module.nothing_here  # noqa: B018


#: Run in a fresh interpreter: a session storage used without encryption,
#: then with keys configured. Prints whether encryption was loaded after each.
_SEALING_PROBE = f"""
import sys, types, flask
from flask_dance.consumer.storage.session import SessionStorage
app = flask.Flask(__name__)
app.secret_key = "secret"
bp, storage = types.SimpleNamespace(name="github"), SessionStorage()
with app.test_request_context():
    storage.set(bp, {{"access_token": "plain"}})
    stored = flask.session["github_oauth_token"]
    print(stored["access_token"], storage.get(bp)["access_token"])
print({CRYPTO!r} in sys.modules)
app.config["FLASK_DANCE_TOKEN_KEYS"] = sys.argv[1]
with app.test_request_context():
    storage.set(bp, {{"access_token": "sealed"}})
    print(sorted(flask.session["github_oauth_token"]), storage.get(bp)["access_token"])
print({CRYPTO!r} in sys.modules)
"""


def test_encryption_is_loaded_when_keys_are_configured() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    assert _run_fresh(_SEALING_PROBE, key).split() == [
        "plain",
        "plain",
        "False",
        "['_fd_enc']",
        "sealed",
        "True",
    ]


def test_encryption_is_loaded_to_read_a_sealed_token() -> None:
    # No key configured, and nothing sealed yet in this process: the sealed
    # token read is still recognized, and refused as the encryption says.
    code = (
        "import sys, types, flask\n"
        "from flask_dance.consumer.storage.session import SessionStorage\n"
        "app = flask.Flask(__name__)\n"
        "app.secret_key = 'secret'\n"
        "bp = types.SimpleNamespace(name='github')\n"
        "with app.test_request_context():\n"
        "    flask.session['github_oauth_token'] = {'_fd_enc': 'gAAAA'}\n"
        f"    print({CRYPTO!r} in sys.modules, SessionStorage().get(bp))\n"
        f"print({CRYPTO!r} in sys.modules)\n"
    )
    assert _run_fresh(code).split() == ["False", "None", "True"]


#: Run in a fresh interpreter: a blueprint without back-channel logout reads
#: its token, then one with it reads its token and receives a logout POST.
_BACKCHANNEL_PROBE = f"""
import sys, flask
from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.consumer.storage import MemoryStorage
app = flask.Flask(__name__)
app.secret_key = "secret"
def blueprint(name, **kwargs):
    bp = OAuth2ConsumerBlueprint(
        name, __name__, client_id="id", client_secret="secret",
        base_url="https://provider.test/", token_url="https://provider.test/token",
        authorization_url="https://provider.test/authorize",
        storage=MemoryStorage({{"access_token": name}}), **kwargs)
    app.register_blueprint(bp)
    return bp
plain = blueprint("plain")
with app.test_request_context():
    print(plain.token["access_token"], plain.backchannel_logout_store is not None)
print({BACKCHANNEL!r} in sys.modules)
corp = blueprint("corp", issuer="https://provider.test", backchannel_logout=True)
print({BACKCHANNEL!r} in sys.modules)
with app.test_request_context():
    print(corp.token["access_token"])
print({BACKCHANNEL!r} in sys.modules)
answer = app.test_client().post("/corp/backchannel-logout", data={{}})
print(answer.status_code, answer.get_json()["error"])
"""


def test_back_channel_logout_is_loaded_when_a_blueprint_uses_it() -> None:
    assert _run_fresh(_BACKCHANNEL_PROBE).split() == [
        "plain",
        "True",
        "False",
        "False",
        "corp",
        "True",
        "400",
        "invalid_request",
    ]
