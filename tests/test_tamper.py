"""Tamper probes: raw SQL that bypasses the application, each caught at its exact position.

Triggers are dropped first where the probe needs UPDATE or DELETE, as an attacker with the
database owner's rights could.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from ledger.adapters.chain import link_hash, payload_digest
from ledger.adapters.store import StoreLocation
from ledger.audit import take_digest, verify
from ledger.services import Ledger

from conftest import pg_connect
from test_events import record_sample

K = 17  # the position the probes aim at
LAST = 75  # the genesis, then the sample history with its correction and its disclosures


class RawStore:
    """Direct SQL on the store's tables, as someone with database access would run it."""

    def __init__(self, url: str) -> None:
        self.location = StoreLocation.parse(url)
        self.sqlite = self.location.backend == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.nid = "rowid" if self.sqlite else "notification_id"

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(str(self.location.path), isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
        else:
            with pg_connect() as conn:
                conn.execute(f'SET search_path TO "{self.location.schema}"')
                yield conn

    def run(self, sql: str, *params: Any) -> list[Any]:
        with self.connect() as conn:
            cur = conn.execute(sql.replace("?", self.mark), params)
            return list(cur.fetchall()) if cur.description else []

    def drop_guards(self) -> None:
        if self.sqlite:
            names = [r[0] for r in self.run("SELECT name FROM sqlite_master WHERE type='trigger'")]
            for name in names:
                self.run(f"DROP TRIGGER {name}")
        else:
            for table in ("ledger_events", "ledger_chain", "ledger_tree"):
                self.run(f"ALTER TABLE {table} DISABLE TRIGGER USER")

    def nid_at(self, position: int) -> int:
        return int(
            self.run("SELECT notification_id FROM ledger_chain WHERE position = ?", position)[0][0]
        )

    def state_at(self, position: int) -> bytes:
        nid = self.nid_at(position)
        return bytes(self.run(f"SELECT state FROM ledger_events WHERE {self.nid} = ?", nid)[0][0])

    def set_state(self, position: int, state: bytes) -> None:
        self.run(
            f"UPDATE ledger_events SET state = ? WHERE {self.nid} = ?", state, self.nid_at(position)
        )


@pytest.fixture
def sample(service: Ledger, store_url: str) -> tuple[Ledger, RawStore]:
    record_sample(service)
    raw = RawStore(store_url)
    raw.drop_guards()
    return service, raw


def problem(service: Ledger, digest: dict[str, Any] | None = None) -> tuple[int, str]:
    result = verify(service, digest)
    assert not result.ok and result.problem is not None
    return result.problem.position, result.problem.kind


def test_untouched_sample_verifies(service: Ledger) -> None:
    record_sample(service)
    result = verify(service)
    assert result.ok and result.head_position == LAST
    assert take_digest(service)["head_hash"] == result.head_hash.hex()


def test_edited_payload(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    raw.set_state(K, raw.state_at(K).replace(b"kent", b"KENT", 1))
    assert problem(service) == (K, "payload changed")


def test_edited_header(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    raw.run(f"UPDATE ledger_events SET topic = 'PlanIssued' WHERE {raw.nid} = ?", raw.nid_at(K))
    assert problem(service) == (K, "link mismatch")


def test_deleted_event(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    raw.run(f"DELETE FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K))
    assert problem(service) == (K, "event missing")


def test_deleted_event_and_its_link(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    raw.run(f"DELETE FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K))
    raw.run("DELETE FROM ledger_chain WHERE position = ?", K)
    assert problem(service) == (K, "link missing")


def test_deleted_last_event(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    last = LAST
    raw.run(f"DELETE FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(last))
    assert problem(service) == (last, "event missing")


def test_link_forged_far_ahead(sample: tuple[Ledger, RawStore]) -> None:
    """A link at a huge position is one jump, not a walk through every empty page to it."""
    service, raw = sample
    far = 10**15
    raw.run(
        "INSERT INTO ledger_chain (position, notification_id, salt, payload_digest, hash) "
        "VALUES (?, ?, ?, ?, ?)", far, 10**9, b"s", b"d", b"h"
    )
    assert problem(service) == (LAST + 1, "link missing")


def test_truncation_is_caught_against_an_earlier_digest(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    digest = take_digest(service)
    for position in (LAST, LAST - 1):
        nid = raw.nid_at(position)
        raw.run("DELETE FROM ledger_chain WHERE position = ?", position)
        raw.run(f"DELETE FROM ledger_events WHERE {raw.nid} = ?", nid)
    for level, idx in raw.run("SELECT level, idx FROM ledger_tree"):  # and the tree's nodes
        if (idx + 1) << level > LAST - 2:
            raw.run("DELETE FROM ledger_tree WHERE level = ? AND idx = ?", level, idx)
    assert verify(service).ok, "a clean truncation leaves a consistent chain: only a digest shows"
    assert problem(service, digest) == (LAST - 1, "truncated")


def test_swapped_events(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    here, there = raw.state_at(K), raw.state_at(K + 1)
    cols = "originator_id, originator_version, topic"
    a = raw.run(f"SELECT {cols} FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K))[0]
    b = raw.run(f"SELECT {cols} FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K + 1))[0]
    # move row K aside first so the primary key never collides
    nid_k, nid_k1 = raw.nid_at(K), raw.nid_at(K + 1)
    raw.run(f"UPDATE ledger_events SET originator_version = -1 WHERE {raw.nid} = ?", nid_k)
    raw.run(
        f"UPDATE ledger_events SET originator_id = ?, originator_version = ?, topic = ?, "
        f"state = ? WHERE {raw.nid} = ?",
        *a,
        here,
        nid_k1,
    )
    raw.run(
        f"UPDATE ledger_events SET originator_id = ?, originator_version = ?, topic = ?, "
        f"state = ? WHERE {raw.nid} = ?",
        *b,
        there,
        nid_k,
    )
    assert problem(service) == (K, "order changed")


def test_forged_event(sample: tuple[Ledger, RawStore]) -> None:
    service, raw = sample
    forged = raw.state_at(K).replace(b"kent", b"fake", 1)
    oid = raw.run(f"SELECT originator_id FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K))[0][
        0
    ]
    raw.run(
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
        "VALUES (?, 999, 'PlanIssued', ?)",
        oid,
        forged,
    )
    assert problem(service) == (LAST + 1, "forged event")


@pytest.mark.parametrize("hidden", [False, True], ids=["alone", "hidden-by-a-deletion"])
def test_forged_event_before_the_others(sample: tuple[Ledger, RawStore], hidden: bool) -> None:
    """Hidden: a deleted event makes as many events as links again; the forged one still shows."""
    service, raw = sample
    oid = raw.run(f"SELECT originator_id FROM ledger_events WHERE {raw.nid} = ?", raw.nid_at(K))[0][
        0
    ]
    raw.run(
        f"INSERT INTO ledger_events ({raw.nid}, originator_id, originator_version, topic, "
        "state) VALUES (0, ?, 998, 'PlanIssued', ?)",
        oid,
        raw.state_at(K),
    )
    if hidden:
        _delete(raw, K + 10, link=False)
    assert problem(service) == (1, "forged event")


def test_edit_and_rehash_is_caught_by_the_signature(
    sample: tuple[Ledger, RawStore],
) -> None:
    """A full re-hash makes the chain self-consistent; the signature still names the edit."""
    service, raw = sample
    digest = take_digest(service)
    raw.set_state(K, raw.state_at(K).replace(b"kent", b"KENT", 1))
    _rehash_from(raw, K)
    assert problem(service) == (K, "signature")
    assert problem(service, digest) == (K, "signature")


def _delete(raw: RawStore, position: int, link: bool = True) -> None:
    nid = raw.nid_at(position)
    raw.run(f"DELETE FROM ledger_events WHERE {raw.nid} = ?", nid)
    if link:
        raw.run("DELETE FROM ledger_chain WHERE position = ?", position)


SEGMENTED: dict[str, Callable[[RawStore], None]] = {
    "untouched": lambda raw: None,
    "payload edited in a later segment": lambda raw: raw.set_state(
        40, raw.state_at(40).replace(b"kent", b"KENT", 1)
    ),
    "link at a seam deleted": lambda raw: _delete(raw, 16),
    "first link after a seam deleted": lambda raw: _delete(raw, 17),
    "event at the last seam deleted": lambda raw: _delete(raw, 50, link=False),
}


@pytest.mark.parametrize("tamper", SEGMENTED.values(), ids=SEGMENTED.keys())
def test_verify_in_segments_finds_what_one_walk_finds(
    sample: tuple[Ledger, RawStore], monkeypatch: pytest.MonkeyPatch, tamper: Any
) -> None:
    """Long chains are verified in segments on all cores; seams at 16, 33 and 50 here."""
    from ledger import audit

    service, raw = sample
    digest = take_digest(service)
    tamper(raw)
    one = [verify(service), verify(service, digest)]
    monkeypatch.setattr(audit, "PARALLEL_FROM", 1)
    monkeypatch.setattr(audit, "_cores", lambda: 4)
    segmented = [verify(service), verify(service, digest)]
    for got, want in zip(segmented, one, strict=True):
        assert (got.ok, got.problem, got.head_position, got.head_hash) == (
            want.ok, want.problem, want.head_position, want.head_hash
        )
    assert one[0].ok == (tamper is SEGMENTED["untouched"])


def _rehash_from(raw: RawStore, start: int) -> None:
    """What a capable attacker does: recompute every link from ``start`` on."""
    from uuid import UUID

    rows = raw.run(
        f"SELECT c.position, c.salt, e.originator_id, e.originator_version, e.topic, e.state "
        f"FROM ledger_chain c JOIN ledger_events e ON e.{raw.nid} = c.notification_id "
        f"ORDER BY c.position"
    )
    previous = bytes(raw.run("SELECT hash FROM ledger_chain WHERE position = ?", start - 1)[0][0])
    for position, salt, oid, version, topic, state in rows:
        if position < start:
            continue
        digest = payload_digest(bytes(salt), bytes(state))
        oid = oid if isinstance(oid, UUID) else UUID(oid)
        previous = link_hash(position, oid, version, topic, digest, previous)
        raw.run(
            "UPDATE ledger_chain SET payload_digest = ?, hash = ? WHERE position = ?",
            digest,
            previous,
            position,
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = 'x'",
        "DELETE FROM ledger_events",
        "UPDATE ledger_chain SET hash = hash",
        "DELETE FROM ledger_chain",
    ],
)
def test_the_database_refuses_update_and_delete(
    service: Ledger, store_url: str, statement: str
) -> None:
    record_sample(service)
    raw = RawStore(store_url)
    errors: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
    with pytest.raises(errors, match="append-only"):
        raw.run(statement)
    assert verify(service).ok


def test_the_database_refuses_replace_and_truncate(service: Ledger, store_url: str) -> None:
    record_sample(service)
    raw = RawStore(store_url)
    attempt: Callable[[], object]
    if raw.sqlite:

        def attempt() -> object:
            return raw.run(
                "INSERT OR REPLACE INTO ledger_events (rowid, originator_id, "
                "originator_version, topic, state) SELECT rowid, originator_id, "
                "originator_version, topic, 'x' FROM ledger_events LIMIT 1"
            )
    else:

        def attempt() -> object:
            return raw.run("TRUNCATE ledger_events, ledger_chain")

    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
        attempt()
    assert verify(service).ok
