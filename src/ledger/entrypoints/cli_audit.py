"""Auditors' commands beyond verify and digest: replay history, and an evidence pack for one
decision that anyone can check against a digest. Also the list of actors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .cli import EXIT_BAD_INPUT, EXIT_CODES, Failure, _Context, cli
from .output import emit, format_option


@click.command("list")
@format_option()
@click.pass_obj
def actor_list(obj: _Context, fmt: str) -> None:
    """Every actor with the body it acts for and its roles."""
    ledger = obj.ledger(mode="read")
    notes = ledger.recorder.select_notifications(start=None, limit=1_000_000,
                                                 topics=["ActorRegistered"])
    keys = sorted({json.loads(n.state)["key"] for n in notes})
    rows = []
    for key in keys:
        actor = ledger.get("actor", key)
        if actor is not None:
            rows.append({"actor": key, "name": actor.name,  # type: ignore[attr-defined]
                         "acts_for": actor.acts_for,  # type: ignore[attr-defined]
                         "roles": [r.value for r in actor.roles]})  # type: ignore[attr-defined]
    emit(rows, fmt, columns=["actor", "name", "acts_for", "roles"])


actor_group = cli.commands["actor"]
assert isinstance(actor_group, click.Group)
actor_group.add_command(actor_list)


@cli.command(epilog=EXIT_CODES)
@click.option("--until", "until", type=int, help="Stop after this position.")
@click.option("--known-at", help="Stop at what the ledger knew at this time (recorded_at).")
@click.option("--kind", help="Only one entity: its kind ...")
@click.option("--key", help="... and its key.")
@format_option(default="json")
@click.pass_obj
def replay(obj: _Context, until: int | None, known_at: str | None, kind: str | None,
           key: str | None, fmt: str) -> None:
    """Replay the log in order, showing each event and its entity's state after it."""
    from projections.base import moment

    from ..domain import AGGREGATE_OF, aggregate_id, aggregate_kind, fold

    if (kind is None) != (key is None):
        raise Failure(EXIT_BAD_INPUT, "kind: give --kind and --key together")
    try:
        limit = moment(known_at) if known_at else None
    except ValueError as exc:
        raise Failure(EXIT_BAD_INPUT, f"known_at: {exc}") from None
    ledger = obj.ledger(mode="read")
    only = aggregate_id(aggregate_kind(kind).kind, key) if kind and key else None
    histories: dict[Any, list[Any]] = {}
    kinds: dict[Any, Any] = {}
    steps = []
    for position, event in ledger.log(0, until):
        if limit is not None and moment(event.recorded_at) > limit:
            break
        if only is not None and event.originator_id != only:
            continue
        history = histories.setdefault(event.originator_id, [])
        history.append(event)
        if event.originator_id not in kinds:
            kinds[event.originator_id] = AGGREGATE_OF[type(event)]
        state = fold(kinds[event.originator_id], history)
        steps.append({
            "position": position,
            "event_id": str(event.id),
            "type": event.type,
            "effective_at": event.effective_at.isoformat(),
            "recorded_at": event.recorded_at.isoformat(),
            "actor": event.actor,
            "reason": event.reason,
            "state": None if state is None else state.model_dump(mode="json"),
        })
    emit(steps, fmt, columns=["position", "type", "effective_at", "actor", "reason", "state"])


@cli.command(epilog=EXIT_CODES)
@click.argument("reference")
@click.option("--out", "folder", type=click.Path(path_type=Path), required=True,
              help="Folder to write the pack into (created; must not hold a pack already).")
@click.pass_obj
def evidence(obj: _Context, reference: str, folder: Path) -> None:
    """Evidence pack for one decision: its events, their chain links with everything needed
    to recompute them, a digest of the whole log, and the decision's source references."""
    from ..audit import take_digest
    from ..domain import aggregate_id

    ledger = obj.ledger(mode="read")
    decision_id = aggregate_id("decision", reference)
    events = [(p, e) for p, e in ledger.log() if e.originator_id == decision_id]
    if not events:
        raise Failure(EXIT_BAD_INPUT, f"reference: no decision '{reference}' in the ledger")
    if (folder / "events.json").exists():
        raise Failure(EXIT_BAD_INPUT, f"out: {folder} already holds an evidence pack")
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for position, event in events:
        before = next(ledger.chain.linked(position - 2, position - 1), None)
        here = next(ledger.chain.linked(position - 1, position))
        links.append({
            "position": position,
            "event_id": str(event.id),
            "originator_id": str(here.originator_id),
            "originator_version": here.originator_version,
            "topic": here.topic,
            "state": (here.state or b"").decode(),
            "salt": here.link.salt.hex(),
            "payload_digest": here.link.payload_digest.hex(),
            "previous_hash": before.link.hash.hex() if before else "00" * 32,
            "hash": here.link.hash.hex(),
        })
    (folder / "events.json").write_text(json.dumps(
        [{"position": p, "event_id": str(e.id), "type": e.type, **e.model_dump(mode="json")}
         for p, e in events], indent=2, ensure_ascii=False, default=str))
    (folder / "chain.json").write_text(json.dumps(links, indent=2, ensure_ascii=False))
    (folder / "digest.json").write_text(json.dumps(take_digest(ledger), indent=2))
    (folder / "sources.json").write_text(json.dumps(
        [{"position": p, **e.source.model_dump()} for p, e in events], indent=2))
    (folder / "README.txt").write_text(_PACK_README.format(reference=reference))
    click.echo(f"wrote the evidence pack for {reference} ({len(events)} events) to {folder}")


_PACK_README = """Evidence pack for decision {reference}

events.json   the decision's events, as recorded, with their chain positions
chain.json    for each event: the stored bytes (state), salt, payload digest, the previous
              link's hash and its own hash
digest.json   a digest of the whole log when the pack was made (position, head hash,
              checkpoint hashes)
sources.json  the source document and place of each event

To check an event: payload_digest = SHA-256("ledger-payload/v1" 0x00 || salt || state);
hash = SHA-256("ledger-chain/v1" 0x00 || uint64_be(position) || originator_id (16 bytes)
|| uint64_be(originator_version) || uint32_be(len(topic)) || topic || payload_digest
|| previous_hash). Each hash must equal the digest's checkpoint at that position when the
digest has one, and `ledger verify --digest digest.json` on the store proves the log still
extends it. The canonical form is in the project's README.
"""
