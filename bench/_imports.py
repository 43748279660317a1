"""The import scenario: what an app pays to import two presets and
:class:`~flask_dance.consumer.storage.sqla.SQLAlchemyStorage`, in a fresh
interpreter, against Flask-Dance 7.1 with the same interpreter and packages.

Each sample is a new Python process that imports the app's modules and
reports the modules then loaded, its peak resident memory and the time the
imports took (the interpreter's own start-up, the same for both sides, is
left out). The two sides alternate process by process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from dataclasses import field

#: What the app of the scenario imports.
STATEMENT = (
    "import flask_dance.contrib.github, flask_dance.contrib.google; "
    "from flask_dance.consumer.storage.sqla import SQLAlchemyStorage"
)

#: Run in each fresh interpreter. Modules are counted before the probe
#: imports anything of its own.
_PROBE = f"""
import sys, time
start = time.perf_counter()
{STATEMENT}
elapsed = time.perf_counter() - start
modules = len(sys.modules)
import json, resource
import flask_dance
print(json.dumps({{
    "modules": modules,
    "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "seconds": elapsed,
    "version": flask_dance.__version__,
    "file": flask_dance.__file__,
}}))
"""

#: The highest acceptable ratios ours / 7.1.
TARGETS = {"modules": 1.00, "rss_kib": 1.00, "seconds": 1.05}


@dataclass
class ImportSide:
    """One side: the interpreter's module path and what it must import.

    :param label: The side's name in the report.
    :param path: The directory put first on ``PYTHONPATH``.
    :param version: The prefix ``flask_dance.__version__`` must have.
    """

    label: str
    path: str
    version: str
    samples: list[dict[str, t.Any]] = field(default_factory=list)

    def probe(self, workdir: str) -> dict[str, t.Any]:
        """Import the app's modules in a new interpreter and return its
        figures; fail loudly if it imported another Flask-Dance."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("PYTHON")
        }
        env["PYTHONPATH"] = self.path
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"import on side {self.label}: {done.stderr[-2000:]}")
        sample: dict[str, t.Any] = json.loads(done.stdout)
        if not sample["version"].startswith(self.version) or not sample[
            "file"
        ].startswith(self.path):
            raise AssertionError(
                f"side {self.label} imported Flask-Dance {sample['version']}"
                f" from {sample['file']}"
            )
        return sample

    def median(self, key: str) -> float:
        return statistics.median(sample[key] for sample in self.samples)


@dataclass
class ImportScenario:
    """Ours, and Flask-Dance 7.1 when a copy of it is given."""

    ours: ImportSide
    upstream: ImportSide | None

    @property
    def sides(self) -> list[ImportSide]:
        return [self.ours] + ([self.upstream] if self.upstream else [])

    def run(self, runs: int, workdir: str) -> None:
        """Take ``runs`` samples per side, alternating the sides, after one
        warm-up each (which also writes the bytecode caches)."""
        for side in self.sides:
            side.probe(workdir)
        for number in range(runs):
            order = self.sides if number % 2 == 0 else self.sides[::-1]
            for side in order:
                side.samples.append(side.probe(workdir))
            print(".", end="", flush=True, file=sys.stderr)
        print(file=sys.stderr)

    def ratio(self, key: str) -> float | None:
        if self.upstream is None:
            return None
        return self.ours.median(key) / self.upstream.median(key)

    def misses(self) -> list[str]:
        problems = []
        for key, target in TARGETS.items():
            ratio = self.ratio(key)
            if ratio is not None and ratio > target:
                problems.append(f"import: {key} ratio {ratio:.3f} > {target:.2f}")
        return problems

    def report(self) -> list[str]:
        """The lines of the import table."""
        runs = len(self.ours.samples)
        lines = [
            f"import: {STATEMENT}",
            f"(medians of {runs} fresh interpreters per side)",
            "",
            f"{'side':<18} {'modules':>8} {'RSS KiB':>9} {'import ms':>10}",
        ]
        lines.append("-" * len(lines[-1]))
        for side in self.sides:
            lines.append(
                f"{side.label:<18} {side.median('modules'):>8.0f}"
                f" {side.median('rss_kib'):>9,.0f}"
                f" {side.median('seconds') * 1e3:>10.1f}"
            )
        if self.upstream is None:
            lines.append("(no Flask-Dance 7.1 given: --upstream; no targets checked)")
            return lines
        ratios = [self.ratio(key) or 0.0 for key in TARGETS]
        verdict = "MISSED" if self.misses() else "ok"
        lines.append(
            f"{'ratio':<18} {ratios[0]:>8.3f} {ratios[1]:>9.3f} {ratios[2]:>10.3f}"
            f"  targets {', '.join(f'{v:.2f}' for v in TARGETS.values())} {verdict}"
        )
        return lines

    def results(self) -> dict[str, t.Any]:
        return {
            "statement": STATEMENT,
            "sides": {
                side.label: {key: side.median(key) for key in TARGETS}
                for side in self.sides
            },
            "ratios": {key: self.ratio(key) for key in TARGETS},
            "targets": TARGETS,
            "runs": len(self.ours.samples),
        }


def make_scenario(repo: str, upstream: str | None) -> ImportScenario:
    """The scenario for this checkout, and for a copy of Flask-Dance 7.1.

    :param repo: The root of this checkout.
    :param upstream: A directory holding Flask-Dance 7.1 and its own
        dependencies that this interpreter lacks (made with ``pip install
        --target DIR --no-deps Flask-Dance==7.1.0 URLObject``), or ``None``.
    """
    from flask_dance import __version__

    ours = ImportSide("ours", os.path.abspath(repo), __version__)
    if upstream is None:
        return ImportScenario(ours, None)
    return ImportScenario(
        ours, ImportSide("Flask-Dance 7.1", os.path.abspath(upstream), "7.1")
    )
