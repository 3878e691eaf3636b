"""Auditors' commands beyond verify and digest: replay history, and an evidence pack for one
decision that anyone can check against a digest. Also the list of actors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from . import tables
from .cli import EXIT_BAD_INPUT, EXIT_CODES, Failure, _Context, cli, not_found
from .output import emit, format_option, one_line


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
@click.option("--as-of", help="Only what had happened by then (effective_at): a date (the "
              "end of that London day) or a timestamp with its offset.")
@click.option("--kind", help="Only one entity: its kind ...")
@click.option("--key", help="... and its key (a plan's replay includes its deliverables "
              "and targets; its items are in its own state).")
@format_option(default="json")
@click.pass_obj
def replay(obj: _Context, until: int | None, known_at: str | None, as_of: str | None,
           kind: str | None, key: str | None, fmt: str) -> None:
    """Replay the log in order, showing each event and its entity's state after it."""
    from projections.base import asked, moment

    from ..domain import AGGREGATE_OF, aggregate_id, aggregate_kind, fold

    if (kind is None) != (key is None):
        raise Failure(EXIT_BAD_INPUT, "kind: give --kind and --key together")
    limit = asked(known_at, "known_at") if known_at else None
    cut = asked(as_of, "as_of") if as_of else None
    ledger = obj.ledger(mode="read")
    chosen = aggregate_kind(kind).kind if kind and key else None
    only = {aggregate_id(chosen, key)} if chosen and key else None
    histories: dict[Any, list[Any]] = {}
    kinds: dict[Any, Any] = {}
    keys: dict[Any, str] = {}
    steps = []
    for position, event in ledger.log(0, until):
        if limit is not None and moment(event.recorded_at) > limit:
            break
        if cut is not None and moment(event.effective_at, end_of_day=False) > cut:
            continue  # not yet happened then; a later position may have happened earlier
        made = AGGREGATE_OF.get(type(event)) if event.creates else None
        if only is not None and chosen == "plan" and made is not None and made.kind in (
                "deliverable", "target") and getattr(event, "plan", None) == key:
            only.add(event.originator_id)  # a member of the plan, from its creation on
        if only is not None and event.originator_id not in only:
            continue
        history = histories.setdefault(event.originator_id, [])
        history.append(event)
        if made is not None:
            kinds.setdefault(event.originator_id, made)
            keys.setdefault(event.originator_id, str(getattr(event, "key", "")))
        elif event.originator_id not in kinds and type(event) in AGGREGATE_OF:
            kinds[event.originator_id] = AGGREGATE_OF[type(event)]
        aggregate = kinds.get(event.originator_id)
        state = fold(aggregate, history) if aggregate is not None else None
        steps.append({
            "position": position,
            "event_id": str(event.id),
            "kind": aggregate.kind if aggregate is not None else None,
            "key": keys.get(event.originator_id),
            "type": event.type,
            "effective_at": event.effective_at.isoformat(),
            "recorded_at": event.recorded_at.isoformat(),
            "actor": event.actor,
            "reason": event.reason,
            "state": None if state is None else state.model_dump(mode="json"),
        })
    if kind and key and not steps:
        raise not_found(chosen or kind, key, exists=ledger.get(kind, key) is not None,
                        as_of=as_of, known_at=known_at, until=until)
    emit(steps, fmt, columns=tables.REPLAY)


@cli.command(epilog=EXIT_CODES)
@click.argument("reference")
@click.option("--out", "folder", type=click.Path(path_type=Path), required=True,
              help="Folder to write the pack into (created; must not hold a pack already).")
@click.pass_obj
def evidence(obj: _Context, reference: str, folder: Path) -> None:
    """Evidence pack for one decision, to check offline with scripts/verify_evidence.py: its
    events with their links and signatures, inclusion proofs against one signed checkpoint,
    the log's verifier key and the sources. A confidential decision's words and salt are not
    in it: its payload digest proves it without them."""
    from ..adapters.keys import KeyDir
    from ..domain import aggregate_id
    from ..proofs import evidence_pack

    ledger = obj.ledger(mode="read")
    if not ledger.history("decision", reference):  # before the log's key is looked for
        raise not_found("decision", reference, field="reference")
    pack = evidence_pack(ledger, aggregate_id("decision", reference), KeyDir())
    if not pack["events"]:
        raise not_found("decision", reference, field="reference")
    if (folder / "evidence.json").exists():
        raise Failure(EXIT_BAD_INPUT, f"out: {folder} already holds an evidence pack")
    pack["sources"] = [
        {"position": p, **e.source.model_dump()}
        for p, e in ledger.log() if e.originator_id == aggregate_id("decision", reference)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evidence.json").write_text(json.dumps(pack, indent=2, ensure_ascii=False))
    (folder / "README.txt").write_text(_PACK_README.format(
        reference=reference, verifier_key=pack["verifier_key"]))
    click.echo(one_line(f"wrote the evidence pack for {reference} ({len(pack['events'])} "
                        f"events) to {folder}"))


_PACK_README = """Evidence pack for decision {reference}

evidence.json  format ledger-evidence/v2: the decision's events, each with its chain link, its
               signature and its RFC 9162 inclusion proof, one signed C2SP checkpoint of the
               log, the log's verifier key, the source of each event, and the key history
               (the signers' key events, proven the same way)

Check it offline, with nothing of the ledger but its one-file verifier (Python 3.11 and the
`cryptography` package; scripts/verify_evidence.py in the ledger's repository), taking the
verifier key from where the body publishes it, not from this pack:

    python3 verify_evidence.py evidence.json --key '{verifier_key}'

It checks, for every event: payload -> salted payload digest -> chain link -> Merkle leaf ->
inclusion proof -> the signed checkpoint -> the key; and each signature -> the signer's key
at that position, by the key history -> the signer's right to name the event's actor. The
formats are in the project's README.
"""
