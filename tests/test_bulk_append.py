"""The bulk append path: canonical JSON written by pydantic_core is byte for byte the standard
library's, a batch's reads are one query, and the rows a batch inserts at once are each linked to
their own event, on both backends."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.codec import canonical_json, canonical_json_reference
from ledger.audit import verify
from ledger.domain import DomainError
from ledger.services import Ledger

from helpers import authority, fact, grant, open_ledger

TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # UTF-8 cannot hold a surrogate
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_canonical_json_is_the_standard_librarys_byte_for_byte(value: Any) -> None:
    assert canonical_json(value) == canonical_json_reference(value)


@pytest.mark.parametrize("text", ["\x00", "\x1f", "\x7f", "\x85", "\u2028", "\\", '"', "£é€"])
def test_canonical_json_escapes_as_the_standard_library_does(text: str) -> None:
    value = {"b": [text, {"z": 1, "a": text}], "a": text}
    assert canonical_json(value) == canonical_json_reference(value)


def test_a_batch_reads_what_it_touches_and_names_in_one_query(
    service: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.record([authority(), grant("grant-1")])
    reads: list[int] = []
    original = service.chain.histories
    monkeypatch.setattr(service.chain, "histories",
                        lambda ids: reads.append(len(set(ids))) or original(ids))
    monkeypatch.setattr(service, "_load", lambda oid: pytest.fail("read one at a time"))
    # pays an existing grant, awards new ones naming the existing body, pays one of those
    facts = [fact("GrantPaid", "grant-1", amount="5.00"), grant("grant-2"), grant("grant-3"),
             fact("GrantPaid", "grant-3", amount="7.00")]
    recorded = service.record(facts)
    assert len(recorded) == 4
    assert reads == [5]  # grant-1, grant-2, grant-3, the body they name and the signer
    monkeypatch.undo()
    assert verify(service).ok
    paid = service.get("grant", "grant-3")
    assert paid is not None and str(paid.paid) == "7.00"  # type: ignore[attr-defined]


def test_a_batch_naming_an_absent_entity_writes_nothing(service: Ledger) -> None:
    service.record([authority()])
    before = service.chain.head()
    bad = fact("GrantAwarded", "grant-9", recipient="X", amount="1.00", purpose="p",
               funding_body="no-such-body")
    with pytest.raises(DomainError, match="funding_body: no body 'no-such-body'"):
        service.record([grant("grant-8"), bad])
    assert service.chain.head() == before


def test_each_row_of_a_batch_is_linked_to_its_own_event(service: Ledger) -> None:
    recorded = service.record([authority(), *(grant(f"grant-{i}") for i in range(40))])
    logged = dict(service.log())
    assert all(logged[r.position] == r.event for r in recorded)
    assert verify(service).ok


def test_row_ids_not_given_in_turn_still_link_each_event(tmp_path: Any) -> None:
    """SQLite gives random row ids once a table holds its largest: the rows inserted at once are
    then found one by one, and each link still names its own event."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    with open_ledger(url) as ledger:
        ledger.record([authority()])
    with sqlite3.connect(tmp_path / "ledger.db") as conn:  # an insider's row at the top
        conn.execute("INSERT INTO ledger_events (rowid, originator_id, originator_version, "
                     "topic, state) VALUES (?, ?, 1, 'BodyEstablished', x'7b7d')",
                     (2**63 - 1, "f" * 32))
    with open_ledger(url) as ledger:
        recorded = ledger.record([grant(f"grant-{i}") for i in range(20)])
        logged = dict(ledger.log())
        assert all(logged[r.position] == r.event for r in recorded)
