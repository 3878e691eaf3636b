"""`ledger key` and `ledger init`: actors' signing keys, and a new log's genesis."""

from __future__ import annotations

import click

from .cli import EXIT_BAD_INPUT, EXIT_CODES, Failure, _Context, cli


@cli.group(epilog=EXIT_CODES)
def key() -> None:
    """Actors' Ed25519 signing keys, kept in the key directory (LEDGER_KEY_DIR, default
    ~/.config/ledger/keys), one file per actor, mode 0600. A private key never enters the
    ledger; its public key is registered with the actor (`actor add --public-key`)."""


@key.command("new", epilog=EXIT_CODES)
@click.argument("actor")
def key_new(actor: str) -> None:
    """Create ACTOR's private key; print where it is kept, then its public key (last line)."""
    from ..adapters.keys import KeyDir, KeyFileError

    keys = KeyDir()
    try:
        signer = keys.new(actor)
    except KeyFileError as exc:
        raise Failure(EXIT_BAD_INPUT, str(exc)) from None
    click.echo(f"private key of {actor}: {keys.file(actor)}")
    click.echo(signer.public_text)


@key.command("show", epilog=EXIT_CODES)
@click.argument("actor")
def key_show(actor: str) -> None:
    """Print ACTOR's public key."""
    from ..adapters.keys import KeyDir, KeyFileError

    try:
        click.echo(KeyDir().signer(actor).public_text)
    except KeyFileError as exc:
        raise Failure(EXIT_BAD_INPUT, str(exc)) from None


@cli.command(epilog=EXIT_CODES)
@click.option("--admin", required=True, metavar="ID", help="The first administrator's actor id.")
@click.option("--name", required=True, help="The administrator's name.")
@click.option("--body", required=True, metavar="KEY", help="Key of the body that keeps the log.")
@click.option("--body-name", required=True, help="That body's name.")
@click.option("--body-type", required=True, help="That body's type (see `body establish "
              "--help`).")
@click.option("--effective-at", help="Since when the body and its administrator stand "
              "(ISO date; default today). Date it back to record the body's earlier history.")
@click.pass_obj
def init(obj: _Context, admin: str, name: str, body: str, body_name: str,
         body_type: str, effective_at: str | None) -> None:
    """Create a new log: its genesis (the body and its administrator with its key, signed by
    that administrator; a key is made if the administrator has none). A store without a
    genesis accepts no writes."""
    from uuid import UUID

    from ..adapters.keys import KeyDir
    from ..provisioning import init_ledger

    ledger = init_ledger(obj.store_url, admin=admin, name=name, body=body,
                         body_name=body_name, body_type=body_type, keys=KeyDir(),
                         effective_at=effective_at)
    with ledger:
        log_id = ledger.chain.log_id()
        click.echo(f"created the log {UUID(bytes=log_id) if log_id else '?'} at "
                   f"{ledger.location.describe()}: body {body}, administrator {admin}")
