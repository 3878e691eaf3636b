"""An independent verifier, written from the README's "Tamper evidence" section alone.

It imports nothing from the ledger (standard library only), so that where it and
``ledger verify`` agree, the README's canonical form is complete and the implementation
follows it; where they disagree, one of them (or the README) is wrong. Given the rows of the
three tables it returns the head and its hash, or the first bad position and its kind.

Rows are passed in as the database driver returns them; ``read_sqlite`` reads them from a
SQLite file with the standard library (PostgreSQL rows are fetched by the caller).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from uuid import UUID

PAYLOAD_PREFIX = b"ledger-payload/v1\x00"
CHAIN_PREFIX = b"ledger-chain/v1\x00"
LOG_PREFIX = b"ledger-log/v1\x00"
DIGEST_FORMAT = "ledger-digest/v2"
CHECKPOINTS = 4096
SPELLING = re.compile(r"[0-9a-f]{32}")
"""How the ledger writes an originator id as SQLite text: 32 lowercase hex digits."""


def payload_digest(salt: bytes, state: bytes) -> bytes:
    return hashlib.sha256(PAYLOAD_PREFIX + salt + state).digest()


def link_hash(
    position: int, originator: bytes, version: int, topic: str, digest: bytes, previous: bytes
) -> bytes:
    encoded = topic.encode("utf-8")
    return hashlib.sha256(
        CHAIN_PREFIX
        + struct.pack(">Q", position)
        + originator
        + struct.pack(">Q", version)
        + struct.pack(">I", len(encoded))
        + encoded
        + digest
        + previous
    ).digest()


def hash_0(log_id: bytes | None) -> bytes:
    """SHA-256("ledger-log/v1" 0x00 || log_id); 32 zero bytes for a store without a log id."""
    return bytes(32) if log_id is None else hashlib.sha256(LOG_PREFIX + log_id).digest()


def checkpoint_positions(head: int) -> list[int]:
    """Every position up to 4,096; beyond, round(i * head / 4096) for i in 1..4096, ties to
    even (Python's round), duplicates dropped."""
    if head <= CHECKPOINTS:
        return list(range(1, head + 1))
    return sorted({max(1, round(i * head / CHECKPOINTS)) for i in range(1, CHECKPOINTS + 1)})


@dataclass
class Rows:
    """The store's rows as read.

    ``events``: notification id -> (originator_id, originator_version, topic, state).
    ``chain``: (position, notification_id, salt, payload_digest, hash) rows.
    ``log``: the ledger_log rows as (log_id,) tuples, or None when there is no such table.
    ``text_ids``: originator ids are stored as text (SQLite); else as 16 bytes (PostgreSQL
    ``uuid``, read with ``uuid_send``).
    """

    events: dict[Any, tuple[Any, Any, Any, Any]]
    chain: list[tuple[Any, Any, Any, Any, Any]]
    log: list[tuple[Any]] | None
    text_ids: bool


@dataclass(frozen=True)
class Outcome:
    ok: bool
    head: int = 0
    hash: bytes = b""
    position: int | None = None
    kind: str | None = None
    captured: dict[int, bytes] = field(default_factory=dict, compare=False)

    def line(self) -> str:
        """The first words of what ``ledger verify`` prints."""
        if self.ok:
            return f"OK position {self.head} hash {self.hash.hex()}"
        return f"FAILED position {self.position}: {self.kind}"


class OtherLog(Exception):
    """The digest is of another log (``ledger verify`` exits 2)."""


def log_id(rows: Rows) -> bytes | None:
    """The log id hash_0 commits to: None without a ledger_log table, or without exactly one
    row holding 16 bytes (hash_0 is then 32 zero bytes, and link 1 no longer follows)."""
    if rows.log is None or len(rows.log) != 1:
        return None
    value = _blob(rows.log[0][0])
    return value if isinstance(value, bytes) and len(value) == 16 else None


def check(rows: Rows, digest: dict[str, Any] | None = None) -> Outcome:
    """The first problem (smallest position; at a tie the link's own problem before a forged
    event), else the head; with a digest, then whether the log extends it."""
    by_position = {row[0]: row for row in rows.chain}
    head = max((p for p in by_position if p >= 1), default=0)
    in_range = [row for p, row in sorted(by_position.items()) if 1 <= p <= head]
    found: list[tuple[int, str]] = []

    walked = _walk(rows, by_position, head, in_range)
    if isinstance(walked, tuple):
        found.append(walked)
    low = min(by_position, default=1)
    if low < 1:
        found.append((low, "link out of range"))
    named = {row[1] for row in in_range}
    unlinked = sorted(n for n in rows.events if n not in named)
    if unlinked:
        first = unlinked[0]
        before = max(
            (row[0] for row in in_range if type(row[1]) is int and row[1] < first), default=0
        )
        found.append((before + 1, "forged event"))
    if found:
        position, kind = min(found, key=lambda problem: problem[0])
        return Outcome(False, position=position, kind=kind)
    assert isinstance(walked, Outcome)
    if digest is None:
        return walked
    return _extends(walked, digest, log_id(rows))


def _walk(
    rows: Rows, by_position: dict[Any, Any], head: int, in_range: list[Any]
) -> tuple[int, str] | Outcome:
    previous, last_nid = hash_0(log_id(rows)), 0
    captured: dict[int, bytes] = {}
    for position in range(1, head + 1):
        row = by_position.get(position)
        if row is None:
            return position, "link missing"
        _, nid, salt, digest, stored = row
        event = rows.events.get(nid) if type(nid) is int else None
        if event is None:
            return position, "event missing"
        if nid == last_nid:
            return position, "linked twice"
        if nid < last_nid:
            return position, "order changed"
        originator, version, topic, state = event
        if rows.text_ids:
            if type(originator) is not str:
                return position, "malformed row"
            if not SPELLING.fullmatch(originator):
                return position, "id respelled"
            originator = bytes.fromhex(originator)
        if not (
            all(type(v) is bytes for v in (salt, digest, stored, state, originator))
            and len(originator) == 16
            and type(version) is int
            and 0 <= version < 2**64
            and type(topic) is str
        ):
            return position, "malformed row"
        if payload_digest(salt, state) != digest:
            moved = any(
                other[0] != position
                and type(other[2]) is bytes
                and payload_digest(other[2], state) == other[3]
                for other in in_range
            )
            return position, "order changed" if moved else "payload changed"
        if link_hash(position, originator, version, topic, digest, previous) != stored:
            return position, "link mismatch"
        captured[position] = stored
        previous, last_nid = stored, nid
    return Outcome(True, head=head, hash=previous, captured=captured)


def _extends(walked: Outcome, digest: dict[str, Any], ours: bytes | None) -> Outcome:
    theirs = digest.get("log_id")
    if theirs != (None if ours is None else str(UUID(bytes=ours))):
        raise OtherLog(f"the digest is of log {theirs}, the store is log {ours!r}")
    points = {int(p): bytes.fromhex(h) for p, h in digest["checkpoints"]}
    if digest["position"]:
        points[int(digest["position"])] = bytes.fromhex(digest["head_hash"])
    last_good = 0
    for position in sorted(points):
        if position > walked.head:
            break
        if walked.captured.get(position) != points[position]:
            return Outcome(False, position=last_good + 1, kind="rewritten")
        last_good = position
    if walked.head < max(points, default=0):
        return Outcome(False, position=last_good + 1, kind="truncated")
    return walked


def _blob(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def read_sqlite(path: str) -> Rows:
    """All rows of a SQLite store, read-only."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    try:
        events = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM ledger_events"
            )
        }
        chain = list(conn.execute(
            "SELECT position, notification_id, salt, payload_digest, hash FROM ledger_chain"
        ))
        has_log = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_log'"
        ).fetchone()
        log = list(conn.execute("SELECT log_id FROM ledger_log")) if has_log else None
    finally:
        conn.close()
    return Rows(events, chain, log, text_ids=True)


def rows_from(
    events: Iterable[Sequence[Any]],
    chain: Iterable[Sequence[Any]],
    log: Iterable[Sequence[Any]] | None,
    *,
    text_ids: bool,
) -> Rows:
    """Rows fetched elsewhere: events as (notification_id, originator_id, version, topic,
    state), chain rows as stored, log as (log_id,) rows or None."""
    return Rows(
        {e[0]: (e[1], e[2], e[3], e[4]) for e in events},
        [(c[0], c[1], c[2], c[3], c[4]) for c in chain],
        None if log is None else [(r[0],) for r in log],
        text_ids=text_ids,
    )
