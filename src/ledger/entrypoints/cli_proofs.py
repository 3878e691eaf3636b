"""`ledger checkpoint` and `ledger proof`: signed tree heads and RFC 9162 proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import click

from .cli import EXIT_BAD_INPUT, EXIT_CODES, Failure, _Context, cli


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Failure(EXIT_BAD_INPUT, f"{what}: cannot read {path}: {exc.strerror}") from None


class _ChainOnly:
    """The store's chain alone, opened read-only: all that checkpoints and proofs read, without
    the services layer and the domain's event models (a checkpoint starts faster)."""

    def __init__(self, url: str) -> None:
        from ..adapters.store import ChainReader, StoreLocation, open_recorder

        self.location = StoreLocation.parse(url)
        self.recorder = open_recorder(self.location, "read")
        self.chain = ChainReader(self.recorder)

    def close(self) -> None:
        from ..adapters.store import close_recorder

        close_recorder(self.recorder)


def _chain(obj: _Context) -> _ChainOnly:
    opened = _ChainOnly(obj.store_url)
    click.get_current_context().call_on_close(opened.close)
    return opened


def _key(obj: _Context, ledger: Any, text: str | None) -> Any:
    """The log's verifier key: given (as published), else this machine's log key."""
    from ..adapters.keys import KeyDir
    from ..integrity.checkpoint import NoteError, parse_verifier_key
    from ..proofs import verifier_key

    if text is None:
        return verifier_key(ledger, KeyDir())
    try:
        return parse_verifier_key(text)
    except NoteError as exc:
        raise Failure(EXIT_BAD_INPUT, f"verifier_key: {exc}") from None


@cli.group(epilog=EXIT_CODES, invoke_without_command=True)
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the signed note to FILE (and print one summary line).")
@click.option("--verifier-key", "show_key", is_flag=True,
              help="Print the log's signed-note verifier key (name+keyhash+base64) instead.")
@click.option("--keep", "keep", type=click.Path(path_type=Path),
              help="Keep it in this folder as SIZE.note (for a schedule: cron, or --every).")
@click.option("--every", type=click.IntRange(min=1),
              help="With --keep: only when the log grew by at least this many events since "
              "the last kept checkpoint.")
@click.pass_context
def checkpoint(ctx: click.Context, output: Path | None, show_key: bool, keep: Path | None,
               every: int | None) -> None:
    """A C2SP tlog-checkpoint of the log as it is now, signed with the log's key: its origin,
    tree size and base64 Merkle root. `checkpoint cosign` adds a witness's co-signature;
    `checkpoint list DIR` lists kept ones. Run it from cron with --keep DIR (daily), or after
    writes with --keep DIR --every N."""
    if ctx.invoked_subcommand is not None:
        return
    if keep is not None:
        _keep(ctx.obj, keep, every)
        return
    obj: _Context = ctx.obj
    from ..adapters.keys import KeyDir
    from ..proofs import checkpoint_note, verifier_key

    ledger = _chain(obj)
    if show_key:
        click.echo(verifier_key(ledger, KeyDir(), create=True).text)
        return
    note = checkpoint_note(ledger, KeyDir())
    if output is None:
        click.echo(note, nl=False)
        return
    output.write_text(note)
    size = note.split("\n")[1]
    click.echo(f"wrote the checkpoint of {size} events to {output}")


def _kept(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    return sorted((int(p.stem), p) for p in folder.glob("*.note") if p.stem.isdigit())


def _keep(obj: _Context, folder: Path, every: int | None) -> None:
    from ..adapters.keys import KeyDir
    from ..proofs import checkpoint_note

    ledger = _chain(obj)
    size = ledger.chain.census().last
    kept = _kept(folder)
    last = kept[-1][0] if kept else 0
    if kept and (size == last or (every is not None and size - last < every)):
        click.echo(f"kept nothing: the last kept checkpoint is of {last} events, the log has "
                   f"{size}")
        return
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{size}.note").write_text(checkpoint_note(ledger, KeyDir()))
    click.echo(f"kept the checkpoint of {size} events as {folder / f'{size}.note'}")


@checkpoint.command("list", epilog=EXIT_CODES)
@click.argument("folder", type=click.Path(path_type=Path))
def list_checkpoints(folder: Path) -> None:
    """The checkpoints kept in FOLDER: tree size, root and file, oldest first."""
    from ..integrity.checkpoint import NoteError, parse_checkpoint, parse_note

    for size, path in _kept(folder):
        try:
            found = parse_checkpoint(parse_note(path.read_text()).text)
            click.echo(f"{size:>10}  {base64.b64encode(found.root).decode()}  {path}")
        except (NoteError, OSError, UnicodeDecodeError) as exc:
            click.echo(f"{size:>10}  (unreadable: {exc})  {path}")


@checkpoint.command("cosign", epilog=EXIT_CODES)
@click.argument("note_path", metavar="CHECKPOINT", type=click.Path(path_type=Path))
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True,
              help="The witness's private key file (as `ledger key new` makes them).")
@click.option("--name", help="The witness's name in its verifier key (default: the key "
              "file's name).")
@click.option("--verifier-key", help="The log's published verifier key (default: this "
              "machine's log key).")
@click.pass_obj
def cosign_checkpoint(obj: _Context, note_path: Path, key_path: Path, name: str | None,
                      verifier_key: str | None) -> None:
    """Co-sign CHECKPOINT as a witness (the Panel, the external auditor), after checking the
    log's signature and that the log is consistent with the last checkpoint this witness
    co-signed (kept beside the key file). Adds a C2SP tlog-cosignature to the file."""
    import json as json_
    import time

    from ..adapters.keys import KeyDir
    from ..integrity.checkpoint import (
        NoteError,
        VerifierKey,
        check_consistent,
        cosign,
        parse_checkpoint,
        parse_note,
    )
    from ..integrity.merkle import consistency_proof
    from ..proofs import read_checkpoint

    ledger = _chain(obj)
    raw = _read(note_path, "checkpoint")
    new = read_checkpoint(ledger, raw, _key(obj, ledger, verifier_key), "checkpoint")
    witness_name = name or key_path.stem
    signer = KeyDir(key_path.parent).signer(key_path.stem)
    state_path = key_path.with_name(key_path.name + ".cosigned.json")
    state = json_.loads(state_path.read_text()) if state_path.exists() else {}
    last = state.get(new.origin)
    try:
        if last is not None:
            old = parse_checkpoint(parse_note(last).text)
            proof = consistency_proof(old.size, new.size, ledger.chain.node) if (
                0 < old.size <= new.size) else []
            check_consistent(old, new, proof)
        witness = VerifierKey(witness_name, signer.public).as_cosigner()
        note = cosign(parse_note(raw), witness, signer.sign, int(time.time()))
    except NoteError as exc:
        raise Failure(1, f"FAILED {exc}") from None
    note_path.write_text(str(note))
    state[new.origin] = str(note)
    state_path.write_text(json_.dumps(state, indent=2))
    click.echo(f"co-signed the checkpoint of {new.size} events as {witness.text}")


@cli.group(epilog=EXIT_CODES)
def proof() -> None:
    """RFC 9162 proofs from the log's stored Merkle tree (hashes in standard base64)."""


@proof.command("inclusion", epilog=EXIT_CODES)
@click.argument("position", type=click.IntRange(min=1))
@click.option("--checkpoint", "checkpoint_path", type=click.Path(path_type=Path),
              help="Prove against this signed checkpoint's tree (default: the log now).")
@click.option("--verifier-key", help="The log's published verifier key (default: this "
              "machine's log key).")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.pass_obj
def proof_inclusion(obj: _Context, position: int, checkpoint_path: Path | None,
                    verifier_key: str | None, fmt: str) -> None:
    """That the event at POSITION is in the log: its leaf hash and the path to the root."""
    from ..proofs import inclusion, read_checkpoint

    ledger = _chain(obj)
    size = ledger.chain.census().last
    if checkpoint_path is not None:
        size = read_checkpoint(ledger, _read(checkpoint_path, "checkpoint"),
                               _key(obj, ledger, verifier_key), "checkpoint").size
    click.echo(json.dumps(inclusion(ledger, position, size), indent=2))


@proof.command("consistency", epilog=EXIT_CODES)
@click.option("--old", "old_path", type=click.Path(path_type=Path), required=True,
              help="The earlier signed checkpoint.")
@click.option("--new", "new_path", type=click.Path(path_type=Path), required=True,
              help="The later signed checkpoint.")
@click.option("--verifier-key", help="The log's published verifier key (default: this "
              "machine's log key).")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.pass_obj
def proof_consistency(obj: _Context, old_path: Path, new_path: Path,
                      verifier_key: str | None, fmt: str) -> None:
    """That the log at the NEW checkpoint extends the one at the OLD: nothing removed or
    rewritten in between."""
    from ..proofs import consistency, read_checkpoint

    ledger = _chain(obj)
    key = _key(obj, ledger, verifier_key)
    old = read_checkpoint(ledger, _read(old_path, "old"), key, "old")
    new = read_checkpoint(ledger, _read(new_path, "new"), key, "new")
    click.echo(json.dumps(consistency(ledger, old.size, new.size), indent=2))
