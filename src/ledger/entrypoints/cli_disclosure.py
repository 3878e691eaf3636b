"""Withholding and releasing recorded content, and the public copy of the log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from .cli import EXIT_BAD_INPUT, Failure, _Context, cli

DISCLOSURE_SOURCE = "disclosure-decision"


def _disclosure_options(f: Any) -> Any:
    for option in reversed([
        click.option("--as", "acting", envvar="LEDGER_ACTOR", metavar="ACTOR",
                     help="The acting actor (env LEDGER_ACTOR): the Commissioner or the Chief "
                     "Executive of the body that owns the record."),
        click.option("--role", help="Role acted in (default: the actor's first role)."),
        click.option("--body", help="Body acted for (default: the actor's body)."),
        click.option("--effective-at", help="From when (ISO date or timestamp; default now)."),
        click.option("--source-document", default=DISCLOSURE_SOURCE, show_default=True,
                     help="The document recording the decision to withhold or release."),
        click.option("--source-location", default="", help="Place in that document."),
    ]):
        f = option(f)
    return f


def _fields(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise Failure(EXIT_BAD_INPUT, "fields: name at least one field, or * for all its text")
    return names


def _disclose(obj: _Context, type_name: str, position: int, fields: dict[str, Any],
              envelope: dict[str, Any]) -> None:
    from .cli_write import _find_event, record_as

    found = _find_event(obj.ledger(), str(position))
    if found is None:
        raise Failure(EXIT_BAD_INPUT, f"position: no event at position {position}")
    target, key, kind = found
    envelope["effective_at"] = envelope["effective_at"] or datetime.now(UTC).isoformat()
    record_as(obj, type_name, key, envelope,
              {"event": str(target.id), "position": position, **fields}, kind=kind)


@cli.command("redact")
@click.argument("position", type=click.IntRange(min=1))
@click.option("--fields", "names", required=True, metavar="F1,F2",
              help="The event's fields to withhold, comma-separated; * withholds all its text "
              "(e.g. a person's data).")
@click.option("--basis", required=True,
              help='The legal basis, e.g. "FOIA 2000 s.43(2) commercial interests".')
@click.option("--reason", help="Why, beyond the basis.")
@_disclosure_options
@click.pass_obj
def redact(obj: _Context, position: int, names: str, basis: str, **envelope: Any) -> None:
    """Withhold fields of the event at POSITION from public view, on a legal basis, by a signed
    event. The event itself is never changed; who withheld what, when and why is public."""
    _disclose(obj, "EventRedacted", position, {"fields": _fields(names), "basis": basis},
              envelope)


@cli.command("release")
@click.argument("position", type=click.IntRange(min=1))
@click.option("--fields", "names", default="*", show_default=True, metavar="F1,F2",
              help="The withheld fields to release, comma-separated; * releases all of them "
              "(a confidential decision's words included).")
@click.option("--reason", required=True, help="Why the content may now be read, e.g. the "
              "commercial interest has lapsed.")
@_disclosure_options
@click.pass_obj
def release(obj: _Context, position: int, names: str, **envelope: Any) -> None:
    """Release withheld fields of the event at POSITION to public view, by a signed event."""
    _disclose(obj, "RedactionReleased", position, {"fields": _fields(names)}, envelope)


@cli.command("export")
@click.option("--public", "out", type=click.Path(path_type=Path), required=True,
              help="The SQLite file to write (must not exist).")
@click.pass_obj
def export(obj: _Context, out: Path) -> None:
    """Write the public copy of the log: every event as the public is shown it, withheld
    payloads and their salts absent, their payload digests kept. It verifies to the same head
    (`ledger --store sqlite:///OUT verify`), signatures included."""
    from ..public_copy import export_public
    from .output import Progress

    progress = Progress("export")
    copied = export_public(obj.ledger(mode="read"), out, progress=progress)
    progress.close()
    click.echo(f"wrote the public copy of {copied.head:,} events to {out}: "
               f"{copied.withheld:,} withheld; head {copied.head_hash.hex()}")

