"""What importing the package costs: no OpenID Connect or encryption
dependency is loaded before it is used."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

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


def _first_heavy_import(modules: tuple[str, ...]) -> object:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(modules), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_importing_the_package_and_presets_loads_no_oidc_dependency() -> None:
    assert _first_heavy_import(LIGHT_MODULES) is None


def test_the_probe_notices_a_heavy_import() -> None:
    # The check above would pass vacuously if the probe could not see one.
    found = _first_heavy_import(("flask_dance", "flask_dance.consumer.oidc"))
    assert found == {"module": "flask_dance.consumer.oidc", "loaded": sorted(HEAVY)}
