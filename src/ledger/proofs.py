"""Checkpoints and proofs an auditor can carry away: signed C2SP checkpoints of the log's Merkle
tree, and RFC 9162 inclusion and consistency proofs answered from its stored subtree hashes.

The checkpoint's origin is ``police-governance-ledger/<log id>``; it is signed with the log's
own Ed25519 key, kept in the key directory as ``log-<log id>`` like an actor's key (made by the
first checkpoint taken on a machine that has none: publish its verifier key).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from .adapters.keys import KeyDir, KeyFileError, Signer, verify_signature
from .errors import DomainError
from .integrity.checkpoint import (
    Checkpoint,
    NoteError,
    VerifierKey,
    open_checkpoint,
    sign_checkpoint,
)
from .integrity.merkle import (
    Node,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    root_nodes,
    tree_root,
)

if TYPE_CHECKING:
    from .adapters.chain import LinkedEvent
    from .adapters.store import ChainReader
    from .services import Ledger


class Chained(Protocol):
    """What proofs need of a store: its chain (a ``Ledger``, or the chain alone, which opens
    without the domain's event models: a checkpoint starts faster)."""

    @property
    def chain(self) -> ChainReader: ...

ORIGIN_PREFIX = "police-governance-ledger/"


def _log_name(ledger: Chained) -> str:
    log_id = ledger.chain.log_id()
    if log_id is None or not ledger.chain.has_tree():
        raise DomainError("store", "this store was made before log ids and trees: no proofs")
    return str(UUID(bytes=log_id))


def origin(ledger: Chained) -> str:
    return ORIGIN_PREFIX + _log_name(ledger)


def log_signer(ledger: Chained, keys: KeyDir, *, create: bool = False) -> Signer:
    """The log's key on this machine: made only by the body signing a checkpoint
    (``create``); an auditor's commands use the one there is, or say there is none."""
    name = f"log-{_log_name(ledger)}"
    if create:
        return keys.signer_or_new(name)
    try:
        return keys.signer(name)
    except KeyFileError:
        raise KeyFileError(
            f"key: no key of log {_log_name(ledger)} in {keys.path}: the body signs "
            "checkpoints with it (`ledger checkpoint`); give its published key with "
            "--verifier-key"
        ) from None


def verifier_key(ledger: Chained, keys: KeyDir, *, create: bool = False) -> VerifierKey:
    return VerifierKey(origin(ledger), log_signer(ledger, keys, create=create).public)


def current(ledger: Chained) -> Checkpoint:
    size = ledger.chain.head()[0]
    return Checkpoint(origin(ledger), size,
                      tree_root(size, _fetched(ledger.chain, root_nodes(size))))


def checkpoint_note(ledger: Chained, keys: KeyDir) -> str:
    """The signed note of the log as it is now (the log's key is made if this machine has
    none: publish its verifier key)."""
    signer = log_signer(ledger, keys, create=True)
    return sign_checkpoint(current(ledger), VerifierKey(origin(ledger), signer.public),
                           signer.sign)


def read_checkpoint(ledger: Chained, raw: bytes | str, key: VerifierKey, what: str) -> Checkpoint:
    """A checkpoint of this log, its signature checked, and its tree the one the log has at
    that size: DomainError (exit 2) for a note that is not this log's, CheckFailed (exit 1)
    for a log that no longer has that tree."""
    from .adapters.chain import Problem
    from .audit import CheckFailed

    try:
        checkpoint, _ = open_checkpoint(raw, key, verify_signature, origin=origin(ledger))
    except NoteError as exc:
        raise DomainError(what, str(exc)) from None
    head = ledger.chain.head()[0]
    if checkpoint.size > head:
        raise CheckFailed(Problem(head + 1, "truncated", f"the checkpoint attests "
                                  f"{checkpoint.size} events; the log now ends at {head}"))
    if tree_root(checkpoint.size, _fetched(ledger.chain, root_nodes(checkpoint.size))) != (
        checkpoint.root
    ):
        raise CheckFailed(Problem(1, "rewritten", f"the log's tree at size {checkpoint.size} "
                                  "is not the one the checkpoint signs"))
    return checkpoint


def _fetched(chain: ChainReader, addresses: list[tuple[int, int]]) -> Node:
    """The tree nodes a proof reads, fetched in one query; any other is read on demand."""
    found = chain.nodes(addresses)

    def node(level: int, index: int) -> bytes:
        stored = found.get((level, index))
        return stored if stored is not None else chain.node(level, index)

    return node


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def inclusion(ledger: Chained, position: int, size: int) -> dict[str, Any]:
    if not 1 <= position <= size:
        raise DomainError("position", f"{position} is not in a tree of {size} events")
    hashes = inclusion_proof(position - 1, size, _fetched(
        ledger.chain, [*inclusion_nodes(position - 1, size), (0, position - 1)]))
    return {"position": position, "leaf_index": position - 1, "tree_size": size,
            "leaf_hash": _b64(ledger.chain.node(0, position - 1)),
            "hashes": [_b64(h) for h in hashes]}


def consistency(ledger: Chained, old_size: int, new_size: int) -> dict[str, Any]:
    if not 0 < old_size <= new_size:
        raise DomainError("old", f"a tree of {old_size} events does not precede one of "
                                 f"{new_size}")
    hashes = consistency_proof(old_size, new_size, _fetched(
        ledger.chain, consistency_nodes(old_size, new_size)))
    return {"old_size": old_size, "new_size": new_size, "hashes": [_b64(h) for h in hashes]}


EVIDENCE_FORMAT = "ledger-evidence/v2"


def evidence_pack(ledger: Ledger, originator_id: UUID, keys: KeyDir) -> dict[str, Any]:
    """Everything an auditor needs to check one entity's events offline against one signed
    checkpoint (``scripts/verify_evidence.py``): each event with its link and signature, its
    inclusion proof, the checkpoint and the log's verifier key, and the key history that says
    whose key signed where (see ``_key_history``). What the read policy withholds from the
    ledger's reader is not in it: such an event carries its payload digest, which proves it
    without its words or its salt, and what is withheld on which basis."""
    return evidence_packs(ledger, [originator_id], keys)[originator_id]


def evidence_packs(ledger: Ledger, originator_ids: Iterable[UUID], keys: KeyDir
                   ) -> dict[UUID, dict[str, Any]]:
    """The evidence pack of each of these entities, against one checkpoint, each read by
    entity (indexed reads, not a walk of the log); the key events are read once for all."""
    from .adapters.chain import genesis_hash
    from .adapters.codec import decode_event
    from .adapters.store import as_uuid
    from .disclosure import for_entity, withheld_summary
    from .integrity.signatures import KEY_TOPICS, KeyRegistry, key_changes

    chain = ledger.chain
    head = chain.census().last
    signer = log_signer(ledger, keys)
    vkey = VerifierKey(origin(ledger), signer.public)
    note = sign_checkpoint(current(ledger), vkey, signer.sign)
    log_id = chain.log_id()
    key_rows = chain.events_of(KEY_TOPICS, head)
    opening = KeyRegistry(key_changes(key_rows)).genesis or 0
    actors = {_actor_key(state): as_uuid(originator)
              for _, originator, topic, state in key_rows if topic == "ActorRegistered"}
    wanted = list(dict.fromkeys(originator_ids))
    kept = {link.link.position: link
            for link in [*chain.linked(0, opening),
                         *chain.linked_of({*wanted, *actors.values()}, head)]
            if link.state is not None}
    hashes = chain.link_hashes(p - 1 for p in kept if p > 1)
    hashes[0] = genesis_hash(log_id)
    by_entity: dict[UUID | None, list[int]] = {}
    for position in sorted(kept):
        by_entity.setdefault(kept[position].originator_id, []).append(position)

    def item(position: int, policy: Any = None) -> dict[str, Any]:
        link = kept[position]
        previous = hashes.get(position - 1, bytes(32))  # none stored: the chain is broken
        if policy is None:
            return _pack_item(ledger, link, previous, head)
        event = decode_event(link.originator_id or UUID(int=0), link.originator_version or 0,
                             link.topic or "", link.state or b"")
        withheld = withheld_summary(policy, event)
        made = _pack_item(ledger, link, previous, head, content=withheld is None)
        return made if withheld is None else {**made, "withheld": withheld}

    packs = {}
    for entity in wanted:
        policy = for_entity(ledger.reader, ledger._load(entity))
        events = [item(p, policy) for p in by_entity.get(entity, ())]
        packs[entity] = {
            "format": EVIDENCE_FORMAT,
            "log_id": str(UUID(bytes=log_id)) if log_id else None,
            "verifier_key": vkey.text,
            "checkpoint": note,
            "events": events,
            "key_history": [item(p) for p in _key_history(kept, by_entity, events, opening,
                                                          actors)],
        }
    return packs


def _key_history(kept: dict[int, LinkedEvent], by_entity: dict[UUID | None, list[int]],
                 events: list[dict[str, Any]], opening: int, actors: dict[Any, UUID]
                 ) -> list[int]:
    """The positions the offline verifier needs to know whose key signed where: the log's
    first events, up to its first registration (whose key signs from position 1), and every
    event of each signer's actor, for the signers of the pack's events and of this history
    itself, in position order."""
    chosen = {p for p in kept if p <= opening}
    signers = {e["signer"] for e in events} | {kept[p].link.signer for p in chosen}
    done: set[Any] = set()
    while signers - done:
        signer = (signers - done).pop()
        done.add(signer)
        actor = actors.get(signer)
        for position in () if actor is None else by_entity.get(actor, ()):
            chosen.add(position)
            signers.add(kept[position].link.signer)
    return sorted(chosen)


def _actor_key(state: Any) -> Any:
    """The actor id a registration's payload names (None when it does not read)."""
    try:
        data = json.loads(bytes(state))
    except (TypeError, ValueError, RecursionError):
        return None
    return data.get("key") if isinstance(data, dict) else None


def _pack_item(ledger: Chained, link: LinkedEvent, previous: bytes, head: int, *,
               content: bool = True) -> dict[str, Any]:
    """One event as the pack holds it; without its state and salt unless ``content``."""
    row = link.link
    item = {
        "position": row.position,
        "originator_id": str(link.originator_id),
        "originator_version": link.originator_version,
        "topic": link.topic,
        "payload_digest": row.payload_digest.hex(),
        "previous_hash": previous.hex(),
        "link_hash": row.hash.hex(),
        "signer": row.signer,
        "key_id": None if row.key_id is None else row.key_id.hex(),
        "signed_at": row.signed_at,
        "signature": None if row.signature is None else row.signature.hex(),
        "inclusion": inclusion(ledger, row.position, head)["hashes"],
    }
    if content and link.state is not None and row.salt is not None:
        item.update(state=link.state.decode(), salt=row.salt.hex())
    return item
