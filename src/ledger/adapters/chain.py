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
    hash_0 = 32 zero bytes

``state_n`` is the stored event's bytes exactly as written (canonical JSON: sorted keys, no
spaces, UTF-8); ``salt_n`` is 16 random bytes kept in the chain row. The chain commits to the
salted payload digest, not to the payload itself: a published copy may withhold a confidential
decision's or a person's ``state`` and its ``salt``, keep ``payload_digest``, and still verify
link by link, while the digest reveals nothing that could be guessed back.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from uuid import UUID

ZERO_HASH = bytes(32)
SALT_BYTES = 16
_PAYLOAD_PREFIX = b"ledger-payload/v1\x00"
_CHAIN_PREFIX = b"ledger-chain/v1\x00"


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


@dataclass(frozen=True)
class ChainRow:
    """One link as stored: what the writer computed in the event's own transaction."""

    position: int
    notification_id: int
    salt: bytes
    payload_digest: bytes
    hash: bytes


def new_links(
    head_position: int,
    head_hash: bytes,
    events: Iterable[tuple[int, UUID, int, str, bytes]],
) -> list[ChainRow]:
    """Links for newly inserted events (notification id, originator, version, topic, state)."""
    rows = []
    position, previous = head_position, head_hash
    for notification_id, originator_id, version, topic, state in events:
        position += 1
        salt = new_salt()
        digest = payload_digest(salt, state)
        previous = link_hash(position, originator_id, version, topic, digest, previous)
        rows.append(ChainRow(position, notification_id, salt, digest, previous))
    return rows


Linked = tuple[
    int, int, bytes, bytes, bytes, bytes | str | None, int | None, str | None, bytes | None
]
"""A link joined with its event as read, flat for speed: position, notification id, salt,
payload digest, hash, originator id (16 bytes, or hex text as SQLite keeps it), version, topic,
state (the event's fields None if it is gone)."""


Seam = tuple[int, bytes, int]
"""Where a walk starts: the position, stored hash and notification id of the link before it."""


@dataclass(frozen=True)
class LinkedEvent:
    """A chain row joined with the event row it points at (event fields None if it is gone)."""

    link: ChainRow
    originator_id: UUID | None
    originator_version: int | None
    topic: str | None
    state: bytes | None


@dataclass(frozen=True)
class Problem:
    position: int
    kind: str
    """payload changed | position missing | order changed | link mismatch | forged event |
    truncated | rewritten"""
    detail: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.kind}: {self.detail}"


@dataclass
class Verification:
    ok: bool = True
    head_position: int = 0
    head_hash: bytes = ZERO_HASH
    problem: Problem | None = None
    captured: dict[int, bytes] = field(default_factory=dict)

    def fail(self, problem: Problem) -> Verification:
        self.ok = False
        self.problem = problem
        return self


def walk(
    linked: Iterable[Linked],
    capture: frozenset[int] = frozenset(),
    progress: Iterator[None] | None = None,
    start: Seam = (0, ZERO_HASH, 0),
) -> Verification:
    """Recomputes the chain over joined rows in position order; stops at the first problem.

    ``capture`` names positions whose stored hashes are kept (for digests and checkpoints).
    ``start`` is the stored link the rows follow, so a segment can be walked on its own.
    The loop is flat (tuples, no objects per event): it is what ``verify`` spends its time in.
    """
    result = Verification()
    expected, previous, last_notification = start[0] + 1, start[1], start[2]
    sha256, payload_prefix = hashlib.sha256, _PAYLOAD_PREFIX
    for position, nid, salt, digest, stored, originator, version, topic, state in linked:
        if progress is not None:
            next(progress, None)
        if position != expected:
            return result.fail(
                Problem(
                    expected,
                    "position missing",
                    f"the chain jumps from {expected - 1} to "
                    f"{position}: links {expected}..{position - 1} were deleted",
                )
            )
        if state is None or originator is None or version is None:
            return result.fail(
                Problem(position, "position missing", f"the event (notification {nid}) was deleted")
            )
        if nid <= last_notification:
            return result.fail(
                Problem(position, "order changed", f"notification {nid} comes after "
                        f"{last_notification}")
            )
        if sha256(payload_prefix + salt + state).digest() != digest:
            return result.fail(
                Problem(
                    position,
                    "payload changed",
                    "the stored event no longer matches the digest its link committed to",
                )
            )
        if isinstance(originator, str):  # SQLite keeps ids as hex text
            originator = bytes.fromhex(originator.replace("-", ""))
        if _link(position, originator, version, topic or "", digest, previous) != stored:
            return result.fail(
                Problem(
                    position,
                    "link mismatch",
                    "the link's hash does not follow from the event and the previous link",
                )
            )
        if position in capture:
            result.captured[position] = stored
        previous, last_notification, expected = stored, nid, expected + 1
    result.head_position, result.head_hash = expected - 1, previous
    return result


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
