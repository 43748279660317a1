"""The ``flask dance`` command group.

Flask finds it through the ``flask.commands`` entry point, so with
Flask-Dance installed, ``flask --app myapp dance check`` audits the app's
setup (see :func:`flask_dance.audit.audit`).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .audit import audit
from .audit import ERROR
from .audit import Finding

#: The ``flask dance`` command group.
dance: AppGroup = AppGroup("dance", help="Flask-Dance commands.")


def _line(finding: Finding) -> str:
    """One line per finding, its fix included, so that each can be grepped."""
    where = f" ({finding.blueprint})" if finding.blueprint else ""
    text = (
        f"{finding.level} {finding.code}{where}: {finding.message} Fix: {finding.fix}"
    )
    return " ".join(text.split())


@dance.command("check")
@click.option(
    "--no-discovery",
    is_flag=True,
    help="Do not fetch the metadata of OpenID Connect issuers.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with a non-zero status on warnings too.",
)
def check(no_discovery: bool, strict: bool) -> None:
    """Check the app's Flask-Dance configuration for common mistakes.

    Prints one ERROR or WARNING line per problem, with its fix; exits with
    status 1 when there is an error (or, with --strict, any finding).
    """
    from flask import current_app

    findings = audit(current_app._get_current_object(), discover=not no_discovery)  # type: ignore[attr-defined]
    for finding in findings:
        click.echo(_line(finding))
    errors = sum(finding.level == ERROR for finding in findings)
    warnings = len(findings) - errors
    if findings:
        click.echo(f"{errors} error(s), {warnings} warning(s).")
    else:
        click.echo("No problems found.")
    if errors or (strict and findings):
        click.get_current_context().exit(1)
