"""The public copy: the log as the public is shown it, still verifiable to the same head.

Each event the read policy withholds anything of is copied as its public view (the withheld
fields read ``withheld (basis)``), without its salt; its link keeps the payload digest, the
hash and the signature, so the chain, the signatures and the Merkle tree verify exactly as in
the original. Nothing withheld, and no salt of a withheld payload, is in the file: a salt with
the digest would let anyone test guesses of the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .adapters.codec import decode_event, encode_event
from .adapters.copy import CopyWriter
from .disclosure import PUBLIC, withheld_summary
from .domain import DomainError

if TYPE_CHECKING:
    from .services import Ledger


@dataclass(frozen=True)
class Copied:
    head: int
    head_hash: bytes
    withheld: int


def export_public(ledger: Ledger, out: Path,
                  progress: Callable[[int, int], None] | None = None) -> Copied:
    """Writes the public copy of ``ledger`` to the new SQLite file ``out``."""
    if out.exists():
        raise DomainError("public", f"{out} already exists; the copy is written to a new file")
    if not out.parent.is_dir():
        raise DomainError("public", f"no folder {out.parent}")
    head, head_hash = ledger.chain.head()
    policy = ledger.policy(head)
    policy.reader = PUBLIC
    writer = CopyWriter(out, ledger.chain.log_id(), datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"))
    withheld_count = 0
    try:
        events: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        withheld: list[tuple[int, str, str]] = []
        for row in ledger.chain.rows(0, head):
            position, nid, salt, digest, hash_, _, originator, version, topic, state = row[:10]
            oid = UUID(originator) if isinstance(originator, str) else UUID(
                bytes=bytes(originator))
            event = decode_event(oid, version, topic, bytes(state))
            hidden = withheld_summary(policy, event)
            if hidden is not None:
                state, salt = encode_event(policy.view(event)).state, None
                withheld.append((position, ",".join(hidden["fields"]),
                                 "; ".join(hidden["basis"])))
                withheld_count += 1
            events.append((nid, oid.hex, version, topic, bytes(state)))
            links.append((position, nid, salt, bytes(digest), bytes(hash_), *row[10:]))
            if len(events) >= 5_000:
                writer.add(events, links, withheld)
                events, links, withheld = [], [], []
                if progress is not None:
                    progress(position, head)
        writer.add(events, links, withheld)
        if ledger.chain.has_tree():
            level = 0
            while True:
                nodes = [(level, int(i), bytes(h)) for i, h in ledger.chain.tree_level(level)]
                if not nodes:
                    break
                writer.add_tree(nodes)
                level += 1
        writer.finish()
    except BaseException:
        writer.abandon()
        raise
    return Copied(head, head_hash, withheld_count)
