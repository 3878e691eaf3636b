"""Writes a new set of golden fixtures: the demo's sample history as this program stores it.

    .venv/bin/python tests/golden/generate.py tests/golden/<new-set-name>

Not run by the tests. A set, once committed, is never regenerated or edited: its stored.jsonl
is what a store written by this version holds, and tests/test_codec.py checks that every later
version still reads it with the same meaning (expected.json). When a change adds an event type,
generate a new set beside the old ones; the old sets stay.

stored.jsonl has one stored event per line, in log order: originator id and version, topic, and
the state exactly as stored (its UTF-8 text). expected.json holds what they decode to: each
event's fields, and each entity's folded state after its whole history.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.adapters.codec import decode_event
from ledger.adapters.keys import Signer
from ledger.demo import CONFIDENTIAL_DECISION, corrections, disclosures, sample_history
from ledger.domain import AGGREGATE_OF, EventRetracted, fold
from ledger.services import Ledger, genesis

WRITTEN_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
"""Recording times are fixed (one second apart) so that a set is the same on every run."""


def record_demo(url: str) -> None:
    """The genesis (fixed key), then the sample, signed by the genesis administrator."""
    signer = Signer.from_seed("golden-admin", bytes(32))
    with Ledger(url, signer=signer) as ledger:
        ledger.init(
            genesis(admin="golden-admin", name="Golden administrator", body="golden-records",
                    body_name="Golden records office", body_type="other",
                    public_key=signer.public_text, effective_at="2026-11-26",
                    roles=["administrator", "records_officer"]),
            admin="golden-admin", signer=signer, now=WRITTEN_AT - timedelta(seconds=1),
        )
        facts = sample_history()
        recorded = [r for i, fact in enumerate(facts)
                    for r in ledger.record([fact], now=WRITTEN_AT + timedelta(seconds=i))]
        superseded = next(r.event for r in recorded if r.event.type == "PlanSuperseded")
        recorded += ledger.record(
            corrections(str(superseded.id)), now=WRITTEN_AT + timedelta(seconds=len(facts))
        )
        decisions = {getattr(r.event, "key", ""): (str(r.event.id), r.position)
                     for r in recorded if r.event.type == "DecisionRecorded"}
        ledger.record(
            disclosures(decisions["kpcc-001-2013"], decisions[CONFIDENTIAL_DECISION]),
            now=WRITTEN_AT + timedelta(seconds=len(facts) + 1),
        )


def stored_rows(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events"
            " ORDER BY rowid"
        ).fetchall()
    return [
        {
            "originator_id": str(UUID(str(oid))),
            "originator_version": version,
            "topic": topic,
            "state": bytes(state).decode(),
        }
        for oid, version, topic, state in rows
    ]


def expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    events = [
        decode_event(r["originator_id"], r["originator_version"], r["topic"], r["state"].encode())
        for r in rows
    ]
    by_entity: dict[UUID, list[Any]] = {}
    for event in events:
        by_entity.setdefault(event.originator_id, []).append(event)
    entities = []
    for originator_id, history in by_entity.items():
        creator = next(e for e in history if not isinstance(e, EventRetracted))
        aggregate = AGGREGATE_OF[type(creator)]
        state = fold(aggregate, history)
        assert state is not None
        entities.append(
            {"kind": aggregate.kind, "originator_id": str(originator_id),
             "state": state.model_dump(mode="json")}
        )
    return {
        "events": [{"type": e.type, "fields": e.model_dump(mode="json")} for e in events],
        "entities": entities,
    }


def main(target: Path) -> None:
    if target.exists():
        sys.exit(f"{target} exists: a committed set is never rewritten; name a new one")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "golden.db"
        record_demo(f"sqlite:///{db}")
        rows = stored_rows(db)
    target.mkdir(parents=True)
    with (target / "stored.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (target / "expected.json").write_text(
        json.dumps(expected(rows), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"{len(rows)} stored events -> {target}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
