"""`ledger import`: the real governance documents, as events."""

from __future__ import annotations

import click

from .cli import _Context, cli


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
