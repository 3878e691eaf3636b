"""Everything a publication shows, read once from one store at one size: the read models'
answers for a date, the reconciliation, evidence packs, and the signed checkpoint of exactly
the log they were read from.

The store given here is the *public copy* (``build.py`` makes it): nothing in this module
decides what may be shown; it shows what that copy holds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..adapters.keys import KeyDir
from ..domain import DomainError, aggregate_id
from ..services import Ledger

ENDED = frozenset({"completed", "closed", "carried_over", "lapsed"})
"""Deliverable statuses after which a deadline can no longer be missed."""
EVIDENCE_KINDS = ("decision", "grant")
"""Records that get an evidence pack of their own in the site."""


@dataclass
class Snapshot:
    as_of: str
    built_at: str
    log_id: str
    size: int
    root: str
    checkpoint: str
    verifier_key: str
    decisions: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    grants: dict[str, Any]
    transitions: dict[str, Any]
    reconciliation: list[dict[str, Any]]
    audit: dict[tuple[str, str], list[dict[str, Any]]]
    evidence: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def trail(self, kind: str, key: str) -> list[dict[str, Any]]:
        return self.audit.get((kind, key), [])

    def body_names(self) -> dict[str, str]:
        return {b["key"]: b.get("name") or b["key"] for b in self.transitions["bodies"]}


def parse_as_of(as_of: str | None) -> str:
    """The publication's date, ISO; today in London when none is given. Bad input names
    ``as_of`` (``ledger.dates``' rules)."""
    from ..dates import parse_day, today

    return (today() if as_of is None else parse_day(as_of, "as_of")).isoformat()


def read_snapshot(ledger: Ledger, as_of: str, keys: KeyDir) -> Snapshot:
    """Reads every read model as of ``as_of`` (known now), then signs the checkpoint of the
    log at the size they were read at. A log that grew meanwhile is refused rather than
    published with a checkpoint that does not match it."""
    from projections.base import Ask
    from projections.runner import (
        AUDIT_TRAIL,
        DECISION_TRAIL,
        GRANTS,
        PLAN_STATE,
        TARGET_HISTORY,
        TRANSITIONS,
        Runner,
    )

    from ..integrity.checkpoint import parse_checkpoint, parse_note
    from ..proofs import checkpoint_note, evidence_packs, verifier_key
    from ..reconcile import as_dicts, reconcile

    size = ledger.chain.census().last
    ask = Ask.of(as_of)
    runner = Runner(ledger)
    try:
        with runner.reading() as rows:
            decisions = DECISION_TRAIL.decisions(rows, ask)
            plans = [found for p in PLAN_STATE.plans(rows, ask)
                     if (found := PLAN_STATE.plan(rows, p["key"], ask)) is not None]
            targets = TARGET_HISTORY.targets(rows, ask)
            grants = GRANTS.register(rows, ask)
            transitions = TRANSITIONS.history(rows, ask)
            audit = {
                ident: AUDIT_TRAIL.trail(rows, ident[0], ident[1], ask)
                for ident in sorted(AUDIT_TRAIL.entities(rows, ask))
            }
        positions = {s.position for s in runner.status()}
    finally:
        runner.close()
    reconciliation = as_dicts(reconcile(ledger))
    note = checkpoint_note(ledger, keys)
    signed = parse_checkpoint(parse_note(note).text)
    records = {aggregate_id(kind, key): (kind, key) for kind, key in audit
               if kind in EVIDENCE_KINDS}
    evidence = {records[entity]: pack
                for entity, pack in evidence_packs(ledger, records, keys).items()}
    if positions != {size} or signed.size != size or ledger.chain.census().last != size:
        raise DomainError("store", "the log grew while it was being published: run again")
    _flag_overdue(plans, as_of)
    return Snapshot(
        as_of=as_of,
        built_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        log_id=signed.origin.rsplit("/", 1)[-1],
        size=signed.size,
        root=base64.b64encode(signed.root).decode(),
        checkpoint=note,
        verifier_key=verifier_key(ledger, keys).text,
        decisions=decisions,
        plans=plans,
        targets=targets,
        grants=grants,
        transitions=transitions,
        reconciliation=reconciliation,
        audit=audit,
        evidence=evidence,
    )


def _flag_overdue(plans: list[dict[str, Any]], as_of: str) -> None:
    """A deliverable is overdue when its due date has passed by ``as_of`` and it has not
    ended; one without a date it can be held to is never flagged."""
    for plan in plans:
        for d in plan["deliverables"]:
            due = d.get("due_on")
            d["overdue"] = bool(due) and str(due) < as_of and d.get("status") not in ENDED
