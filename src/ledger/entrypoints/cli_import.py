"""`ledger import`: the real governance documents, as events."""

from __future__ import annotations

from typing import Any

import click

from .cli import DEFAULT_STORE_URL, EXIT_CHECK_FAILED, Failure, _Context, cli, signer_of
from .output import Progress, emit, format_option
from .tables import FIRST_SEEN

MAIN_GENESIS = {"admin": "records-admin", "name": "Records administrator",
                "body": "governance-records", "body_name": "Police governance records office",
                "body_type": "other"}
"""The main job's log is kept by a records office; its administrator registers the officer."""
MAIN_RECORDS_OFFICER: dict[str, Any] = {
    "actor": "records-officer", "name": "Records officer",
    "roles": ["records_officer"], "acts_for": "governance-records",
}


@cli.command("import")
@click.argument("document", default="all")
@click.option("--as", "acting", envvar="LEDGER_ACTOR", required=True, metavar="ACTOR",
              help="The records officer transcribing the documents (signs every event).")
@click.pass_obj
def import_documents(obj: _Context, document: str, acting: str) -> None:
    """Import DOCUMENT (a seed id) or all of them, as a records officer; each is atomic, and a
    second run adds nothing. Lines that cannot be read without guessing are reported as
    findings."""
    from ..importer import documents, import_document

    ledger = obj.ledger()
    ledger.signer = signer_of(acting)
    chosen = documents(document)
    progress = Progress("import", len(chosen))
    for n, doc in enumerate(chosen):
        progress(n)
        done = import_document(ledger, doc)
        progress.clear()
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

    checks = run_checks(obj.ledger(mode="read"))
    emit(as_dicts(checks), fmt, columns=["document", "check", "unit", "stated", "computed",
                                         "difference", "source"])
    if any(c.differs for c in checks):
        raise Failure(EXIT_CHECK_FAILED, "")


@cli.command("main")
@click.pass_context
def main_job(ctx: click.Context) -> None:
    """The main job: import the real documents into the store (created if absent, never
    overwritten), bring the projections up to date, and print what the ledger now holds: events
    per document, the transition story, the reconciliation findings, and the verified digest.

    It always uses its own store, events_store/ledger.db, unless --store is given on the
    command line: a LEDGER_STORE_URL left in the shell (the walk-through's) is ignored, and
    the job says so."""
    from projections.base import Ask
    from projections.runner import TRANSITIONS, Runner

    from ..adapters.keys import KeyDir
    from ..audit import take_digest
    from ..audit import verify as verify_chain
    from ..importer import documents, import_document
    from ..provisioning import ensure_actor, open_or_init
    from ..reconcile import reconcile as run_checks

    obj: _Context = ctx.obj
    assert ctx.parent is not None
    if ctx.parent.get_parameter_source("store_url") is click.core.ParameterSource.ENVIRONMENT:
        click.echo(f"note: the main job ignores LEDGER_STORE_URL ({obj.store_url}) and uses "
                   f"its own store; give --store to choose another", err=True)
        obj.store_url = DEFAULT_STORE_URL
    keys = KeyDir()
    ledger = open_or_init(obj.store_url, keys=keys, **MAIN_GENESIS)
    obj.adopt(ledger)
    ledger.signer = ensure_actor(ledger, **MAIN_RECORDS_OFFICER, keys=keys,
                                 admin=lambda: keys.signer(MAIN_GENESIS["admin"]))
    click.echo(f"store: {ledger.location.describe()}")
    click.echo("documents:")
    chosen = documents()
    progress = Progress("import", len(chosen))
    for n, doc in enumerate(chosen):
        progress(n)
        done = import_document(ledger, doc)
        progress.clear()
        state = "already imported" if done.already else f"{done.added} events added"
        click.echo(f"  {doc.key}  {doc.title}: {state}")
        for finding in done.findings:
            click.echo(f"    finding: {finding}")
    runner = Runner(ledger)
    progress = Progress("projections")
    runner.catch_up(progress=progress)
    progress.close()
    with runner.reading() as rows:
        story = TRANSITIONS.history(rows, Ask.of())
    runner.close()
    click.echo("transition story:")
    for body in story["bodies"]:
        ended = f", abolished {body['abolished_on']}" if body.get("abolished_on") else ""
        since = FIRST_SEEN if body.get("note") else "established"
        click.echo(f"  body {body['key']} ({body['body_type']}): {since} "
                   f"{body['established_on']}{ended}")
    for term in story["office_terms"]:
        click.echo(f"  term {term['holder']}, {term['office']} of {term['office_body']}, "
                   f"from {term['from']} (elected {term['elected_on']})")
    for transfer in story["transfers"]:
        outcomes: dict[str, int] = {}
        for c in transfer["commitments"]:
            outcomes[c["outcome"]] = outcomes.get(c["outcome"], 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        click.echo(f"  transfer {transfer['on']}: {transfer['from_body']} -> "
                   f"{transfer['to_body']} ({transfer['legal_basis']}); "
                   f"{len(transfer['commitments'])} commitments open: {summary}")
    click.echo("reconciliation (stated vs computed):")
    for check in run_checks(ledger):
        mark = "DIFFERS" if check.differs else "ok"
        click.echo(f"  {mark:7} {check.what}: stated {check.stated}, computed {check.computed}"
                   f" ({check.unit}, {check.document} {check.source})")
    progress = Progress("verify")
    result = verify_chain(ledger, progress=progress.ticks(ledger.chain.census().last))
    progress.close()
    if not result.ok:
        click.echo(f"verify FAILED {result.problem}")
        raise Failure(EXIT_CHECK_FAILED, "")
    kept = take_digest(ledger)
    click.echo(f"verify OK position {result.head_position} hash {result.head_hash.hex()}")
    click.echo(f"digest: position {kept['position']} head {kept['head_hash']} taken "
               f"{kept['taken_at']} (`ledger digest -o FILE` keeps one)")
    from .cli_publish import publish_main_site

    publish_main_site(obj.store_url)
