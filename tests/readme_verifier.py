"""An independent verifier, written from the README's "Tamper evidence" section alone.

It imports nothing from the ledger (the standard library, and ``cryptography`` for Ed25519
only), so that where it and ``ledger verify`` agree, the README's canonical form, signed
message and key registry rules are complete and the implementation follows them; where they
disagree, one of them (or the README) is wrong. Given the rows of the three tables it returns
the head, its hash and the signatures checked by signer, or the first bad position and its
kind.

Rows are passed in as the database driver returns them; ``read_sqlite`` reads them from a
SQLite file with the standard library (PostgreSQL rows are fetched by the caller).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_PREFIX = b"ledger-payload/v1\x00"
CHAIN_PREFIX = b"ledger-chain/v1\x00"
LOG_PREFIX = b"ledger-log/v1\x00"
SIGNATURE_PREFIX = b"ledger-signature/v1\x00"
LEAF_PREFIX = b"ledger-leaf/v1\x00"
DIGEST_FORMAT = "ledger-digest/v2"
CHECKPOINTS = 4096
SPELLING = re.compile(r"[0-9a-f]{32}")
"""How the ledger writes an originator id as SQLite text: 32 lowercase hex digits."""
KEY_TOPICS = ("ActorRegistered", "ActorKeyRotated", "ActorKeyRevoked", "ActorDeactivated",
              "ActorRoleGranted", "ActorRoleRevoked")
SIGNED_COLUMNS = ("signer", "key_id", "signature", "signed_at")


def payload_digest(salt: bytes, state: bytes) -> bytes:
    return hashlib.sha256(PAYLOAD_PREFIX + salt + state).digest()


def _text(value: str) -> bytes:
    """uint32_be(len(value)) || value, UTF-8: the length counts bytes."""
    encoded = value.encode("utf-8")
    return struct.pack(">I", len(encoded)) + encoded


def link_hash(
    position: int, originator: bytes, version: int, topic: str, digest: bytes, previous: bytes
) -> bytes:
    return hashlib.sha256(
        CHAIN_PREFIX
        + struct.pack(">Q", position)
        + originator
        + struct.pack(">Q", version)
        + _text(topic)
        + digest
        + previous
    ).digest()


def hash_0(log_id: bytes | None) -> bytes:
    """SHA-256("ledger-log/v1" 0x00 || log_id); 32 zero bytes for a store without a log id."""
    return bytes(32) if log_id is None else hashlib.sha256(LOG_PREFIX + log_id).digest()


def signed_message(
    log_id: bytes | None, originator: bytes, version: int, topic: str, digest: bytes,
    signer: str, signed_at: str,
) -> bytes:
    """What an event's Ed25519 signature is over (16 zero bytes stand for no log id)."""
    return (
        SIGNATURE_PREFIX
        + (log_id if log_id is not None else bytes(16))
        + originator
        + struct.pack(">Q", version)
        + _text(topic)
        + digest
        + _text(signer)
        + _text(signed_at)
    )


def key_id(public: bytes) -> bytes:
    """The first 8 bytes of SHA-256 of the 32 raw public key bytes."""
    return hashlib.sha256(public).digest()[:8]


def public_key(text: Any) -> bytes | None:
    """The 32 bytes of ``ed25519:BASE64`` (standard alphabet, padded), else None."""
    if not isinstance(text, str) or not text.startswith("ed25519:"):
        return None
    try:
        raw = base64.b64decode(text[len("ed25519:"):], validate=True)
    except binascii.Error:
        return None
    return raw if len(raw) == 32 else None


def reads_as_time(value: Any) -> bool:
    """An ISO 8601 date (exactly 10 characters) or date-time, as text, that names an instant
    (a naive date-time is UTC) in years 1..9999."""
    if not isinstance(value, str):
        return False
    try:
        if len(value) == 10:
            date.fromisoformat(value)
            return True
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def leaf_hash(
    position: int, link: bytes, digest: bytes, signer: Any, kid: Any, signed_at: Any,
    signature: Any,
) -> bytes:
    """SHA-256(0x00 || leaf data) of a chain row; a NULL signature column counts as empty."""
    data = (
        LEAF_PREFIX
        + struct.pack(">Q", position)
        + link
        + digest
        + _text(signer or "")
        + _bytes(kid or b"")
        + _text(signed_at or "")
        + _bytes(signature or b"")
    )
    return hashlib.sha256(b"\x00" + data).digest()


def _bytes(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete subtree's hash, level by level: level 0 the leaves, level k + 1 the
    node hash of each complete pair of level k, until a level has fewer than two."""
    levels = [leaves]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


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
    ``chain``: (position, notification_id, salt, payload_digest, hash, signer, key_id,
    signature, signed_at) rows.
    ``log``: the ledger_log rows as (log_id,) tuples, or None when there is no such table.
    ``tree``: the ledger_tree rows as (level, idx, hash), or None when there is no such table.
    ``text_ids``: originator ids are stored as text (SQLite); else as 16 bytes (PostgreSQL
    ``uuid``, read with ``uuid_send``).
    """

    events: dict[Any, tuple[Any, Any, Any, Any]]
    chain: list[tuple[Any, ...]]
    log: list[tuple[Any]] | None
    text_ids: bool
    tree: list[tuple[Any, Any, Any]] | None = None


@dataclass(frozen=True)
class Outcome:
    ok: bool
    head: int = 0
    hash: bytes = b""
    position: int | None = None
    kind: str | None = None
    captured: dict[int, bytes] = field(default_factory=dict, compare=False)
    signers: dict[str, int] = field(default_factory=dict, compare=False)

    def line(self) -> str:
        """The first words of what ``ledger verify`` prints."""
        if self.ok:
            return f"OK position {self.head} hash {self.hash.hex()}"
        return f"FAILED position {self.position}: {self.kind}"

    def summary(self) -> str:
        """The third line of ``ledger verify``'s OK answer."""
        signers = ", ".join(f"{name} {n:,}" for name, n in sorted(self.signers.items()))
        return (f"{self.head:,} events checked, {sum(self.signers.values()):,} signatures "
                f"checked; signers: {signers or 'none'}")


class OtherLog(Exception):
    """The digest is of another log (``ledger verify`` exits 2)."""


def log_id(rows: Rows) -> bytes | None:
    """The log id hash_0 and the signatures commit to: None without a ledger_log table, or
    without exactly one row holding 16 bytes (hash_0 is then 32 zero bytes, and link 1 no
    longer follows)."""
    if rows.log is None or len(rows.log) != 1:
        return None
    value = _blob(rows.log[0][0])
    return value if isinstance(value, bytes) and len(value) == 16 else None


# ------------------------------------------------------------------------------- key registry

@dataclass
class Key:
    public: bytes
    start: int
    """The position that (last) registered it: it signs after that."""
    ends: list[int] = field(default_factory=list)
    """Positions of the rotations and revocations that ended it: it signs up to them."""


@dataclass
class Registry:
    """Whose keys were good where, from the key events of positions 1..head, in order."""

    keys: dict[str, dict[bytes, Key]] = field(default_factory=dict)
    deactivated: dict[str, list[int]] = field(default_factory=dict)
    genesis: int | None = None
    """The position of the log's first registration: its key signs from position 1."""
    transcribes: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    """Per actor: (position, whether it is a records officer after it)."""

    def may_sign_for(self, position: int, signer: str, actor: Any) -> bool:
        """Its own events, or anyone's while a records officer."""
        held = False
        for changed, now in self.transcribes.get(signer, ()):
            if changed < position:
                held = now
        return actor == signer or held

    def good(self, position: int, signer: str, kid: bytes) -> bytes | None:
        """The public key that checks a signature by ``signer`` with ``kid`` at
        ``position``, or None: no such key, not yet registered, ended, or signer
        deactivated before ``position``."""
        key = self.keys.get(signer, {}).get(kid)
        if key is None:
            return None
        if key.start >= position and key.start != self.genesis:
            return None
        if any(end < position for end in key.ends):
            return None
        if any(end < position for end in self.deactivated.get(signer, ())):
            return None
        return key.public


def registry(rows: Rows, in_range: list[tuple[Any, ...]]) -> Registry:
    """The README's key registry rules, applied to the key events linked in 1..head."""
    made = Registry()
    actors: dict[Any, str] = {}
    for row in in_range:  # position order
        event = rows.events.get(row[1]) if type(row[1]) is int else None
        if event is None or type(event[2]) is not str or event[2] not in KEY_TOPICS:
            continue
        originator, _, topic, state = event
        try:
            data = json.loads(_blob(state)) if isinstance(_blob(state), bytes | str) else None
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        if topic == "ActorRegistered":
            if not isinstance(data.get("key"), str):
                continue
            actors[originator] = data["key"]
        actor = actors.get(originator)
        if actor is None or not reads_as_time(data.get("effective_at")):
            continue
        raw = data.get("public_key")
        public = None if raw is None else public_key(raw)
        if raw is not None and public is None:
            continue
        correction = data.get("corrects") is not None
        roles = {"ActorRegistered": data.get("roles"), "ActorRoleGranted": [data.get("granted")],
                 "ActorRoleRevoked": [data.get("revoked")]}.get(topic)
        if isinstance(roles, list) and "records_officer" in roles and not correction:
            made.transcribes.setdefault(actor, []).append(
                (row[0], topic != "ActorRoleRevoked"))
        _apply(made, row[0], actor, topic, public, correction)
    return made


def _apply(made: Registry, position: int, actor: str, topic: str, public: bytes | None,
           correction: bool) -> None:
    keys = made.keys.setdefault(actor, {})
    if correction and (topic in ("ActorKeyRevoked", "ActorDeactivated")
                       or (public is not None and key_id(public) in keys)):
        return
    if topic == "ActorRegistered" and made.genesis is None:
        made.genesis = position
    if topic == "ActorKeyRotated":
        for key in keys.values():
            key.ends.append(position)
    if topic in ("ActorRegistered", "ActorKeyRotated") and public is not None:
        keys[key_id(public)] = Key(public, position)
    elif topic == "ActorKeyRevoked" and public is not None and key_id(public) in keys:
        keys[key_id(public)].ends.append(position)
    elif topic == "ActorDeactivated":
        made.deactivated.setdefault(actor, []).append(position)


def ed25519_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_many(items: list[tuple[int, bytes, bytes, bytes]]) -> int | None:
    """The first position whose signature does not verify, or None."""
    for position, public, signature, message in items:
        if not ed25519_ok(public, signature, message):
            return position
    return None


_GOOD: set[bytes] = set()
"""Digests of (public key, signature, message) already seen to verify: checking a long log
again after a small edit repeats only the arithmetic for what changed."""


def _seen(item: tuple[int, bytes, bytes, bytes]) -> bytes:
    _, public, signature, message = item
    return hashlib.sha256(public + signature + message).digest()


# ------------------------------------------------------------------------------- the check

def check(rows: Rows, digest: dict[str, Any] | None = None, *, workers: int = 1) -> Outcome:
    """The first problem (smallest position; at a tie the link's own problem before a forged
    event), else the head; with a digest, then whether the log extends it. ``workers``
    processes do the Ed25519 arithmetic (it is independent per row)."""
    by_position = {row[0]: row for row in rows.chain}
    head = max((p for p in by_position if p >= 1), default=0)
    in_range = [row for p, row in sorted(by_position.items()) if 1 <= p <= head]
    found: list[tuple[int, str]] = []

    walked, signed = _walk(rows, by_position, head, in_range)
    bad = _first_bad(signed, workers)
    if bad is not None:
        walked = (bad, "signature")
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
    if not found:
        assert isinstance(walked, Outcome)
        tree = _tree_problem(rows, in_range)
        if tree is not None:
            found.append(tree)
    if found:
        position, kind = min(found, key=lambda problem: problem[0])
        return Outcome(False, position=position, kind=kind)
    assert isinstance(walked, Outcome)
    if digest is None:
        return walked
    return _extends(walked, digest, log_id(rows))


def _tree_problem(rows: Rows, in_range: list[tuple[Any, ...]]) -> tuple[int, str] | None:
    """The stored tree against the one the chain gives, level by level (up to the first level
    with fewer than two nodes): at each level the stored nodes in index order must be exactly
    the expected ones. The first difference at a level (a node missing, one beyond the log,
    one that differs) is named at the first position its subtree covers; of all levels', the
    smallest position is reported."""
    if rows.tree is None:
        return None if log_id(rows) is None else (1, "tree mismatch")
    leaves = [leaf_hash(position, link, digest, signer, kid, signed_at, signature)
              for position, _, _, digest, link, signer, kid, signature, signed_at in in_range]
    stored: dict[Any, list[tuple[Any, Any]]] = {}
    for level, idx, value in sorted(rows.tree, key=lambda r: (r[0], r[1])):
        stored.setdefault(level, []).append((idx, _blob(value)))
    found = []
    for level, expected in enumerate(tree_levels(leaves)):
        wrong = _level_problem(stored.get(level, []), expected)
        if wrong is not None:
            found.append((wrong << level) + 1)
    return (min(found), "tree mismatch") if found else None


def _level_problem(stored: list[tuple[Any, Any]], expected: list[bytes]) -> int | None:
    for i, (idx, value) in enumerate(stored):
        if i >= len(expected):
            return int(idx)
        if idx != i:
            return i if idx > i else int(idx)
        if value != expected[i]:
            return i
    return len(stored) if len(stored) < len(expected) else None


def _first_bad(signed: list[tuple[int, bytes, bytes, bytes]], workers: int) -> int | None:
    """The first position whose Ed25519 signature does not verify, checked in ``workers``
    processes when there are many."""
    seen = [_seen(item) for item in signed]
    todo = [item for item, done in zip(signed, seen, strict=True) if done not in _GOOD]
    if workers <= 1 or len(todo) < 1000:
        bad = _check_many(todo)
    else:
        size = -(-len(todo) // (workers * 4))
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(workers) as pool:
            bad = min((p for p in pool.map(_check_many, chunks) if p is not None), default=None)
    _GOOD.update(done for item, done in zip(signed, seen, strict=True)
                 if bad is None or item[0] < bad)
    return bad


def _walk(
    rows: Rows, by_position: dict[Any, Any], head: int, in_range: list[Any]
) -> tuple[tuple[int, str] | Outcome, list[tuple[int, bytes, bytes, bytes]]]:
    """The walk, and the signatures still to check by Ed25519 (at positions before the
    walk's problem, if any: a bad one among them is the first problem)."""
    log = log_id(rows)
    keys = registry(rows, in_range)
    previous, last_nid = hash_0(log), 0
    captured: dict[int, bytes] = {}
    signers: dict[str, int] = {}
    signed: list[tuple[int, bytes, bytes, bytes]] = []
    for position in range(1, head + 1):
        row = by_position.get(position)
        if row is None:
            return (position, "link missing"), signed
        _, nid, salt, digest, stored, signer, kid, signature, signed_at = row
        event = rows.events.get(nid) if type(nid) is int else None
        if event is None:
            return (position, "event missing"), signed
        if nid == last_nid:
            return (position, "linked twice"), signed
        if nid < last_nid:
            return (position, "order changed"), signed
        originator, version, topic, state = event
        if rows.text_ids:
            if type(originator) is not str:
                return (position, "malformed row"), signed
            if not SPELLING.fullmatch(originator):
                return (position, "id respelled"), signed
            originator = bytes.fromhex(originator)
        if not (
            all(type(v) is bytes for v in (salt, digest, stored, state, originator))
            and len(originator) == 16
            and type(version) is int
            and 0 <= version < 2**64
            and type(topic) is str
        ):
            return (position, "malformed row"), signed
        if payload_digest(salt, state) != digest:
            moved = any(
                other[0] != position
                and type(other[2]) is bytes
                and payload_digest(other[2], state) == other[3]
                for other in in_range
            )
            return (position, "order changed" if moved else "payload changed"), signed
        if link_hash(position, originator, version, topic, digest, previous) != stored:
            return (position, "link mismatch"), signed
        if not (type(signer) is str and type(kid) is bytes and type(signature) is bytes
                and reads_as_time(signed_at)):
            return (position, "signature"), signed  # unsigned, or columns that do not read
        public = keys.good(position, signer, kid)
        if public is None:
            return (position, "signature"), signed
        try:
            payload = json.loads(state)
        except ValueError:
            payload = None
        actor = payload.get("actor") if isinstance(payload, dict) else None
        if not keys.may_sign_for(position, signer, actor):
            return (position, "signature"), signed
        signed.append((position, public, signature, signed_message(
            log, originator, version, topic, digest, signer, signed_at)))
        signers[signer] = signers.get(signer, 0) + 1
        captured[position] = stored
        previous, last_nid = stored, nid
    return Outcome(True, head=head, hash=previous, captured=captured, signers=signers), signed


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
    """All rows of a SQLite store, read-only (a chain table without the signature columns,
    as made before signatures, reads as unsigned)."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    try:
        events = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM ledger_events"
            )
        }
        columns = {r[1] for r in conn.execute("PRAGMA table_info(ledger_chain)")}
        signed = ", ".join(c if c in columns else "NULL" for c in SIGNED_COLUMNS)
        chain = list(conn.execute(
            f"SELECT position, notification_id, salt, payload_digest, hash, {signed} "
            "FROM ledger_chain"
        ))
        has_log = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_log'"
        ).fetchone()
        log = list(conn.execute("SELECT log_id FROM ledger_log")) if has_log else None
        has_tree = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_tree'"
        ).fetchone()
        tree = list(conn.execute("SELECT level, idx, hash FROM ledger_tree")) if has_tree else None
    finally:
        conn.close()
    return Rows(events, chain, log, text_ids=True, tree=tree)


def rows_from(
    events: Iterable[Sequence[Any]],
    chain: Iterable[Sequence[Any]],
    log: Iterable[Sequence[Any]] | None,
    *,
    text_ids: bool,
    tree: Iterable[Sequence[Any]] | None = None,
) -> Rows:
    """Rows fetched elsewhere: events as (notification_id, originator_id, version, topic,
    state), chain rows as stored (the five link columns, then the four signature columns if
    the table has them), log as (log_id,) rows or None, tree as (level, idx, hash) rows or
    None."""
    return Rows(
        {e[0]: (e[1], e[2], e[3], _blob(e[4])) for e in events},
        [tuple(_blob(v) for v in (*c[:9], *(None,) * (9 - len(c[:9])))) for c in chain],
        None if log is None else [(r[0],) for r in log],
        text_ids=text_ids,
        tree=None if tree is None else [(r[0], r[1], _blob(r[2])) for r in tree],
    )
