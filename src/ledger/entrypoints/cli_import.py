"""`ledger import`: the real governance documents, as events."""

from __future__ import annotations

import click

from .cli import EXIT_CHECK_FAILED, Failure, _Context, cli
from .output import emit, format_option


@cli.command("import")
@click.argument("document", default="all")
@click.pass_obj
def import_documents(obj: _Context, document: str) -> None:
    """Import DOCUMENT (a seed id) or all of them; each is atomic, and a second run adds
    nothing. Lines that cannot be read without guessing are reported as findings."""
    from ..importer import documents, import_document

    ledger = obj.ledger()
    for doc in documents(document):
        done = import_document(ledger, doc)
        state = "already imported" if done.already else f"{done.added} events"
        click.echo(f"{doc.key} ({doc.title}): {state}")
        for finding in done.findings:
            click.echo(f"  finding: {finding}")


@cli.command()
@format_option()
@click.pass_obj
def reconcile(obj: _Context, fmt: str) -> None:
    """Every total the imported documents state, against the sum of the lines it names:
    stated, computed, difference, source line. Exits 1 when any differs."""
    from ..reconcile import as_dicts
    from ..reconcile import reconcile as run_checks

    checks = run_checks(obj.ledger(create=False))
    emit(as_dicts(checks), fmt, columns=["document", "check", "unit", "stated", "computed",
                                         "difference", "source"])
    if any(c.differs for c in checks):
        raise Failure(EXIT_CHECK_FAILED, "")
