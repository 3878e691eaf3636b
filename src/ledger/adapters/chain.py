"""The hash chain's canonical form and its verifier. Pure: no database here.

Canonical form (version 1), for chain position n >= 1 (consecutive, starting at 1):

    payload_digest_n = SHA-256( "ledger-payload/v1" 0x00 || salt_n || state_n )
    hash_n = SHA-256( "ledger-chain/v1" 0x00
                      || uint64_be(n)
                      || originator_id (16 bytes, RFC 4122 order)
                      || uint64_be(originator_version)
                      || uint32_be(len(topic)) || topic (UTF-8)
                      || payload_digest_n
                      || hash_{n-1} )
    hash_0 = SHA-256( "ledger-log/v1" 0x00 || log_id )   (32 zero bytes for a store made
                                                          before log ids, which has none)

``state_n`` is the stored event's bytes exactly as written (canonical JSON: sorted keys, no
spaces, UTF-8); ``salt_n`` is 16 random bytes kept in the chain row. The chain commits to the
salted payload digest, not to the payload itself: a published copy may withhold a confidential
decision's or a person's ``state`` and its ``salt``, keep ``payload_digest``, and still verify
link by link, while the digest reveals nothing that could be guessed back.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from ..integrity.signatures import KeyRegistry, signed_message, utc_moment

ZERO_HASH = bytes(32)
SALT_BYTES = 16
_PAYLOAD_PREFIX = b"ledger-payload/v1\x00"
_CHAIN_PREFIX = b"ledger-chain/v1\x00"
_LOG_PREFIX = b"ledger-log/v1\x00"


def genesis_hash(log_id: bytes | None) -> bytes:
    """hash_0: binds every link to the log's id, so a digest or a link of one log can never
    pass for another's, and a changed log id shows at position 1."""
    return ZERO_HASH if log_id is None else hashlib.sha256(_LOG_PREFIX + log_id).digest()


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def payload_digest(salt: bytes, state: bytes) -> bytes:
    return hashlib.sha256(_PAYLOAD_PREFIX + salt + state).digest()


def link_hash(
    position: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    digest: bytes,
    previous: bytes,
) -> bytes:
    return _link(position, originator_id.bytes, originator_version, topic, digest, previous)


def _link(
    position: int, originator: bytes, version: int, topic: str, digest: bytes, previous: bytes
) -> bytes:
    return hashlib.sha256(
        _CHAIN_PREFIX + _HEAD.pack(position, originator, version) + _topic(topic) + digest
        + previous
    ).digest()


_HEAD = struct.Struct(">Q16sQ")
"""uint64_be(position) || originator_id (16 bytes) || uint64_be(originator_version)"""
_TOPICS: dict[str, bytes] = {}


def _topic(topic: str) -> bytes:
    """uint32_be(len(topic)) || topic, kept per topic (there are a few dozen)."""
    encoded = _TOPICS.get(topic)
    if encoded is None:
        raw = topic.encode()
        encoded = _TOPICS[topic] = len(raw).to_bytes(4, "big") + raw
    return encoded


class ChainRow(NamedTuple):
    """One link as stored: what the writer computed in the event's own transaction. (Named
    tuples here, not dataclasses: every command loads this module, and a dataclass costs a
    compile of each generated method at import.)"""

    position: int
    notification_id: int
    salt: bytes
    payload_digest: bytes
    hash: bytes
    signer: str | None = None
    key_id: bytes | None = None
    signature: bytes | None = None
    signed_at: str | None = None

    def values(self) -> tuple[Any, ...]:
        """The row as the chain table's columns, in order."""
        return tuple(self)


Signature = tuple[str, bytes, bytes, str]
"""signer, key id, signature, signed_at"""
Sign = Callable[[bytes, int, str, bytes], Signature]
"""Signs an event given its originator id (16 bytes), version, topic and payload digest."""


def new_links(
    head_position: int,
    head_hash: bytes,
    events: Iterable[tuple[int, UUID, int, str, bytes]],
    sign: Sign | None = None,
) -> list[ChainRow]:
    """Links for newly inserted events (notification id, originator, version, topic, state),
    each signed by ``sign``."""
    rows = []
    position, previous = head_position, head_hash
    for notification_id, originator_id, version, topic, state in events:
        position += 1
        salt = new_salt()
        digest = payload_digest(salt, state)
        previous = link_hash(position, originator_id, version, topic, digest, previous)
        signed = sign(originator_id.bytes, version, topic, digest) if sign else (None,) * 4
        rows.append(ChainRow(position, notification_id, salt, digest, previous, *signed))
    return rows


Linked = tuple[Any, ...]
"""A link joined with its event as read, flat for speed: position, notification id, salt,
payload digest, hash, the event's notification id (None if the event is gone), originator id
(16 bytes, or hex text as SQLite keeps it), version, topic, state, then the signature columns:
signer, key id, signature, signed_at. Typed ``Any``: an insider
can store anything, and the walk checks each value's type before trusting it."""


Seam = tuple[int, bytes, int]
"""Where a walk starts: the position, stored hash and notification id of the link before it."""


class LinkedEvent(NamedTuple):
    """A chain row joined with the event row it points at (event fields None if it is gone)."""

    link: ChainRow
    originator_id: UUID | None
    originator_version: int | None
    topic: str | None
    state: bytes | None


class Problem(NamedTuple):
    position: int
    kind: str
    """link missing | event missing | payload changed | order changed | linked twice |
    link mismatch | forged event | link out of range | id respelled | malformed row |
    truncated | rewritten (see KINDS)"""
    detail: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.kind}: {self.detail}"


KINDS = {
    "link missing": "positions jump: links were deleted, or one was forged far ahead",
    "event missing": "a link's event row is gone (deleted, or moved to another row)",
    "payload changed": "the event's bytes, or the link's salt or payload digest, changed",
    "order changed": "events were reordered: notification ids do not rise with position",
    "linked twice": "two links name the same event",
    "link mismatch": "the stored hash does not follow from the event and the link before",
    "forged event": "an event that no link names: inserted outside the ledger",
    "link out of range": "a chain row at a position outside 1..head",
    "id respelled": "an originator id not spelled as the ledger writes it",
    "malformed row": "a column of the wrong type, or NULL",
    "signature": "unsigned, a bad signature, or one made with a key not good for its signer there",
    "tree mismatch": "a stored Merkle tree node is not the one the chain gives",
    "truncated": "the log is shorter than a digest attests",
    "rewritten": "a link differs from a digest taken earlier",
}
"""Every problem verify reports, with what it means."""


@dataclass
class Verification:
    ok: bool = True
    head_position: int = 0
    head_hash: bytes = ZERO_HASH
    problem: Problem | None = None
    captured: dict[int, bytes] = field(default_factory=dict)
    log_id: bytes | None = None
    signers: dict[str, int] = field(default_factory=dict)
    """Signatures checked, by signer."""
    withheld: int = 0
    """Payloads a public copy withholds: their digests are linked and signed as any, but the
    payload behind each cannot be checked against it."""

    @property
    def signatures(self) -> int:
        return sum(self.signers.values())

    def fail(self, problem: Problem) -> Verification:
        self.ok = False
        self.problem = problem
        return self


def walk(
    linked: Iterable[Linked],
    capture: frozenset[int] = frozenset(),
    progress: Iterator[None] | None = None,
    start: Seam = (0, ZERO_HASH, 0),
    *,
    text_ids: bool = False,
    signatures: Signatures | None = None,
    withheld: frozenset[int] = frozenset(),
) -> Verification:
    """Recomputes the chain over joined rows in position order; stops at the first problem.

    ``capture`` names positions whose stored hashes are kept (for digests and checkpoints).
    ``start`` is the stored link the rows follow (hash_0 for the first), so a segment can be
    walked on its own. It checks what the application reads: the exact stored spelling of an
    originator id (``text_ids``: the store keeps them as text, as SQLite does), and each
    value's type. ``withheld`` names the positions of a public copy whose salt is absent
    (NULL): their payload digests cannot be recomputed, everything else is checked. The loop is
    flat (tuples, no objects per event): it is what ``verify`` spends its time in.
    """
    result = Verification()
    expected, previous, last_notification = start[0] + 1, start[1], start[2]
    sha256, payload_prefix = hashlib.sha256, _PAYLOAD_PREFIX
    signers = result.signers
    for row in linked:
        position, nid, salt, digest, stored, event_nid, originator, version, topic, state = row[:10]
        if progress is not None:
            next(progress, None)
        if position != expected:
            return result.fail(
                Problem(
                    expected,
                    "link missing",
                    f"the chain jumps from {expected - 1} to "
                    f"{position}: links {expected}..{position - 1} were deleted",
                )
            )
        if event_nid is None:
            return result.fail(
                Problem(position, "event missing", f"the event (notification {nid}) was deleted")
            )
        if nid == last_notification:
            return result.fail(
                Problem(position, "linked twice", f"notification {nid} is linked at "
                        f"{position - 1} too")
            )
        if not (type(nid) is int and nid > last_notification):
            return result.fail(
                Problem(position, "order changed", f"notification {nid} comes after "
                        f"{last_notification}")
            )
        if type(originator) is str:  # SQLite keeps ids as 32 lowercase hex digits
            try:
                raw = bytes.fromhex(originator)
            except ValueError:
                raw = b""
            if len(raw) != 16 or raw.hex() != originator:
                return result.fail(
                    Problem(position, "id respelled", f"originator id '{originator[:40]}' is "
                            "not spelled as the ledger writes it, so the entity cannot find it")
                )
            originator = raw
        elif text_ids:
            return result.fail(Problem(position, "malformed row", "originator_id is not text"))
        hidden = salt is None and position in withheld  # a public copy's: no salt to check
        if hidden:
            result.withheld += 1
        if not (
            (hidden or type(salt) is bytes) and type(digest) is bytes and type(stored) is bytes
            and type(state) is bytes and type(originator) is bytes and len(originator) == 16
            and type(version) is int and 0 <= version < 2**64 and type(topic) is str
        ):
            return result.fail(Problem(position, "malformed row", _malformed(row)))
        if not hidden and sha256(payload_prefix + salt + state).digest() != digest:
            return result.fail(
                Problem(
                    position,
                    "payload changed",
                    "the stored event no longer matches the digest its link committed to",
                )
            )
        if _link(position, originator, version, topic, digest, previous) != stored:
            return result.fail(
                Problem(
                    position,
                    "link mismatch",
                    "the link's hash does not follow from the event and the previous link",
                )
            )
        if signatures is not None:
            problem = signatures.check(position, originator, version, topic, digest, row[10:],
                                       state)
            if problem is not None:
                return result.fail(Problem(position, "signature", problem))
            signers[row[10]] = signers.get(row[10], 0) + 1
        if position in capture:
            result.captured[position] = stored
        previous, last_notification, expected = stored, nid, expected + 1
    result.head_position, result.head_hash = expected - 1, previous
    return result


class Signatures:
    """Checks each link's signature against the key good for its signer at that position."""

    def __init__(
        self,
        log_id: bytes | None,
        registry: KeyRegistry,
        verify: Callable[[bytes, bytes, bytes], bool],
    ) -> None:
        self.log_id, self.registry, self.verify = log_id, registry, verify

    def check(
        self, position: int, originator: bytes, version: int, topic: str, digest: bytes,
        signed: tuple[Any, ...], state: bytes | None = None,
    ) -> str | None:
        """None when good, else what is wrong (the message always says "signature"). With the
        payload (``state``), also that its signer may sign for the actor it names."""
        signer, key_id, signature, signed_at = signed
        if signer is None and signature is None:
            return "unsigned: no signature on this event"
        if not (type(signer) is str and type(key_id) is bytes and type(signature) is bytes
                and type(signed_at) is str):
            return "malformed signature columns"
        when = utc_moment(signed_at)
        if when is None:
            return f"signature time '{signed_at[:40]}' is not a time"
        public, why = self.registry.public_key(position, signer, key_id, when)
        if public is None:
            return f"signature not good: {why}"
        message = signed_message(self.log_id, originator, version, topic, digest, signer,
                                 signed_at)
        if not self.verify(public, signature, message):
            return f"bad signature: it does not match this event and {signer}'s key"
        if state is not None:
            try:
                data = json.loads(state)
            except ValueError:
                data = None  # the walk has checked the payload against its digest
            actor = data.get("actor") if isinstance(data, dict) else None
            refused = self.registry.may_sign_for(position, signer, actor)
            if refused is not None:
                return f"signature not good for this event: {refused}"
        return None


_COLUMNS = ("position", "notification_id", "salt", "payload_digest", "hash", "event",
            "originator_id", "originator_version", "topic", "state")
_TYPES: dict[str, type] = {"salt": bytes, "payload_digest": bytes, "hash": bytes,
                           "originator_id": bytes, "originator_version": int, "topic": str,
                           "state": bytes}


def _malformed(row: Linked) -> str:
    for name, value in zip(_COLUMNS, row[:10], strict=True):
        wanted = _TYPES.get(name)
        if wanted is None:
            continue
        if value is None:
            return f"{name} is NULL"
        if type(value) is not wanted:
            return f"{name} is {type(value).__name__}, not {wanted.__name__}"
    return "originator_version out of range"


def checkpoint_positions(head: int, most: int = 4096) -> list[int]:
    """Positions a digest records: every one for short logs, else ``most`` spread evenly.

    With every position recorded, a rewrite is located exactly; beyond that, to a window.
    """
    if head <= most:
        return list(range(1, head + 1))
    step = head / most
    positions = sorted({max(1, round(step * (i + 1))) for i in range(most)})
    if positions[-1] != head:
        positions.append(head)
    return positions
