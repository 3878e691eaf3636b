#!/usr/bin/env python3
"""Check a ledger evidence pack offline, with nothing of the ledger: Python 3.11+ and the
``cryptography`` package (for Ed25519) only. Copy this one file anywhere and run

    python3 verify_evidence.py PACK.json --key VERIFIER_KEY [--witness VKEY ... --threshold N]

VERIFIER_KEY is the log's published signed-note verifier key (``ledger checkpoint
--verifier-key``), ``<name>+<hex key ID>+<base64(0x01 || Ed25519 public key)>``: take it from
where the body publishes it, not from the pack. For every event the chain is checked end to
end: payload -> salted payload digest -> chain link -> leaf -> inclusion proof -> the signed
checkpoint -> the key; and its signature -> the signer's key at that position -> the signer's
right to name the event's actor, from the signers' key events carried in the pack (its key
history, each checked the same way). Output: one ``OK position N ...`` line per event and a
last ``OK key history ...`` line, exit 0; or one ``FAILED ...`` line naming the first failure
and exit 1. Exit 2: the pack cannot be read, or an argument is wrong.

Evidence pack (JSON, UTF-8), format "ledger-evidence/v2". Binary values in events are lowercase
hex, as ``ledger verify`` prints hashes; proof hashes are standard base64, as in checkpoints.

    {
      "format": "ledger-evidence/v2",
      "log_id": "<UUID of the log>",      the signed message's log_id (16 zero bytes when null)
      "verifier_key": "<the log's vkey, for information: the check uses --key>",
      "checkpoint": "<a C2SP signed note: the tlog-checkpoint text, a blank line, signatures>",
      "events": [
        {
          "position": 20,                     chain position; the leaf index is position - 1
          "originator_id": "<UUID>", "originator_version": 3, "topic": "PlanIssued",
          "state": "<the stored event bytes, as UTF-8 text>",      absent when withheld
          "salt": "<hex, 16 bytes>",                               absent when withheld
          "payload_digest": "<hex, 32 bytes>",
          "previous_hash": "<hex: the link hash at position - 1 (hash_0 at position 1)>",
          "link_hash": "<hex, 32 bytes>",
          "signer": "<actor id>", "key_id": "<hex, 8 bytes>",
          "signed_at": "<ISO 8601 UTC>", "signature": "<hex, 64 bytes>",
          "inclusion": ["<base64 hash>", ...]   RFC 9162 inclusion path in the checkpoint's tree
        }
      ],
      "key_history": [ <events as above, never withheld> ],
      "sources": ...                          anything else is for the reader, not checked here
    }

The key history holds the log's events from position 1 up to its first ActorRegistered (whose
key signs from position 1), and every event of each signer's actor (its registration,
rotations, revocations, role changes) as of the checkpoint, for every signer of the pack's
events and of the history itself. Each is checked as an event is; the pack is refused if the
first positions or any version of an actor in it are missing. From it the README's key
registry ("Whose keys sign where") is built, and every signature, in the events and in the
history, must be good by it: signed, its key the signer's at that position (registered
before it, not ended before it, the signer not deactivated before it), Ed25519-valid, and the
event's ``actor`` the signer itself or the signer a records officer there. A withheld event's
actor cannot be read; its line says so. What the pack cannot show is an actor's key event
after its last one in the pack: only ``ledger verify`` of the whole log rules that out.

A withheld event (no state and no salt) is checked from its payload digest alone: the chain
commits to the salted digest, so the proof holds without the content. The canonical forms:

    payload_digest = SHA-256("ledger-payload/v1" 0x00 || salt || state)
    link_hash      = SHA-256("ledger-chain/v1" 0x00 || uint64_be(position)
                             || originator_id (16 bytes) || uint64_be(originator_version)
                             || uint32_be(len(topic)) || topic || payload_digest
                             || previous_hash)
    leaf data      = "ledger-leaf/v1" 0x00 || uint64_be(position) || link_hash || payload_digest
                     || uint32_be(len(signer)) || signer || uint32_be(len(key_id)) || key_id
                     || uint32_be(len(signed_at)) || signed_at
                     || uint32_be(len(signature)) || signature      (empty when unsigned)
    leaf hash      = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right)
    signed message = "ledger-signature/v1" 0x00 || log_id (16 bytes) || originator_id (16)
                     || uint64_be(originator_version) || uint32_be(len(topic)) || topic
                     || payload_digest || uint32_be(len(signer)) || signer
                     || uint32_be(len(signed_at)) || signed_at

The checkpoint (c2sp.org/tlog-checkpoint) must be signed by --key (c2sp.org/signed-note,
Ed25519), and its origin is the key's name. With --witness, it must also carry a good
c2sp.org/tlog-cosignature (Ed25519, cosignature/v1) from at least --threshold of them (default:
all); a known key's bad signature refuses the checkpoint, unknown keys' signatures are ignored.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import struct
import sys
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "ledger-evidence/v2"
KEY_TOPICS = ("ActorRegistered", "ActorKeyRotated", "ActorKeyRevoked", "ActorDeactivated",
              "ActorRoleGranted", "ActorRoleRevoked")
TRANSCRIBER = "records_officer"
PAYLOAD_PREFIX = b"ledger-payload/v1\x00"
CHAIN_PREFIX = b"ledger-chain/v1\x00"
LEAF_PREFIX = b"ledger-leaf/v1\x00"
SIGNATURE_PREFIX = b"ledger-signature/v1\x00"
ED25519, COSIGNATURE = 0x01, 0x04
EM_DASH = "\u2014"


class Failed(Exception):
    """The first check that failed: printed as ``FAILED <where>: <why>``."""


class Unreadable(Exception):
    """The pack or an argument cannot be used at all (exit 2)."""


# --- Encodings ------------------------------------------------------------------------------


def b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Failed(f"{what}: not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise Failed(f"{what}: not canonical base64")
    return raw


def hexa(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9a-f]{2})*", value):
        raise Failed(f"{what}: not lowercase hex")
    raw = bytes.fromhex(value)
    if size is not None and len(raw) != size:
        raise Failed(f"{what}: {len(raw)} bytes, not {size}")
    return raw


def lp(raw: bytes) -> bytes:
    return struct.pack(">I", len(raw)) + raw


def ed25519_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- Signed notes and checkpoints (C2SP) ----------------------------------------------------


def key_hash(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def parse_vkey(text: str, what: str) -> tuple[str, int, bytes]:
    """(name, type, public key) of a vkey; Unreadable when it is not one."""
    name, _, rest = text.strip().partition("+")
    hex_id, plus, encoded = rest.partition("+")  # the base64 may hold '+' too
    if not plus or not name or any(c.isspace() for c in name):
        raise Unreadable(f"{what}: not <name>+<hex key ID>+<base64 key>")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable(f"{what}: the key is not base64") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise Unreadable(f"{what}: not an Ed25519 key (type 0x01 or 0x04, 32 bytes)")
    if key_hash(name, raw[0], raw[1:]).hex() != hex_id:
        raise Unreadable(f"{what}: key ID {hex_id} does not match the key")
    return name, raw[0], raw[1:]


def parse_note(raw: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """(text, [(key name, key ID, signature)]) of a signed note."""
    if any(ord(c) < 0x20 and c != "\n" for c in raw):
        raise Failed("checkpoint: a control character in the note")
    split = raw.rfind("\n\n")
    if split < 0 or not raw.endswith("\n"):
        raise Failed("checkpoint: not a signed note (text, blank line, signature lines)")
    text, signatures = raw[: split + 1], []
    for line in raw[split + 2: -1].split("\n"):
        match = re.fullmatch(EM_DASH + r" ([^ ]+) ([A-Za-z0-9+/=]+)", line)
        if match is None:
            raise Failed(f"checkpoint: {line!r} is not a signature line")
        value = b64(match.group(2), "checkpoint: signature")
        if len(value) < 5:
            raise Failed("checkpoint: a signature is too short")
        signatures.append((match.group(1), value[:4], value[4:]))
    return text, signatures


def check_note(note: str, log_key: tuple[str, int, bytes], witnesses: list[tuple[str, bytes]],
               threshold: int) -> tuple[str, int, bytes]:
    """The checkpoint (origin, size, root) once the note is signed by the log key and
    cosigned by ``threshold`` witnesses."""
    text, signatures = parse_note(note)
    name, _, public = log_key
    log_id = key_hash(name, ED25519, public)
    cosigners = {(w, key_hash(w, COSIGNATURE, pub)): pub for w, pub in witnesses}
    signed, cosigned = False, set()
    for sig_name, sig_id, signature in signatures:
        if (sig_name, sig_id) == (name, log_id):
            if not ed25519_ok(public, signature, text.encode()):
                raise Failed(f"checkpoint: bad signature by {name}")
            signed = True
        elif (sig_name, sig_id) in cosigners:
            stamp = int.from_bytes(signature[:8], "big")
            message = f"cosignature/v1\ntime {stamp}\n".encode() + text.encode()
            if len(signature) != 72 or stamp >= 2**63 or not ed25519_ok(
                cosigners[sig_name, sig_id], signature[8:], message
            ):
                raise Failed(f"checkpoint: bad cosignature by {sig_name}")
            cosigned.add((sig_name, sig_id))
    if not signed:
        raise Failed(f"checkpoint: not signed by the key given ({name})")
    if len(cosigned) < threshold:
        raise Failed(
            f"checkpoint: {len(cosigned)} of {len(cosigners)} witnesses cosigned, "
            f"{threshold} needed"
        )
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise Failed("checkpoint: not origin, tree size and root hash lines")
    origin, size, root_text = lines[:3]
    if origin != name:
        raise Failed(f"checkpoint: origin {origin!r} is not the key's name {name!r}")
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise Failed(f"checkpoint: tree size {size!r} is not a number")
    root = b64(root_text, "checkpoint: root hash")
    if len(root) != 32:
        raise Failed("checkpoint: the root hash is not 32 bytes")
    return origin, int(size), root


# --- The Merkle tree (RFC 9162 2.1.3.2) ------------------------------------------------------


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root the inclusion path leads to, or None when the path cannot be one for a leaf at
    ``index`` in a tree of ``size`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


# --- One event -------------------------------------------------------------------------------


def leaf_data(position: int, link: bytes, digest: bytes, signer: str | None, key_id: bytes,
              signed_at: str | None, signature: bytes) -> bytes:
    return (
        LEAF_PREFIX + struct.pack(">Q", position) + link + digest + lp((signer or "").encode())
        + lp(key_id) + lp((signed_at or "").encode()) + lp(signature)
    )


def field(event: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    value = event.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Failed(f"{name}: missing or not a {kind.__name__}")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # JSON may spell a lone surrogate
            raise Failed(f"{name}: not UTF-8 text") from None
    return value


class Seen(NamedTuple):
    """One pack event whose chain, leaf and inclusion are checked; its signature is not yet."""

    position: int
    originator: UUID
    version: int
    topic: str
    digest: bytes
    data: Any
    """The state read as JSON (None when withheld, or when it is not JSON)."""
    withheld: bool
    signer: str | None
    key_id: bytes
    signed_at: str | None
    signature: bytes


def check_chain(event: Any, size: int, root: bytes) -> Seen:
    """The event once payload -> digest -> link -> leaf -> inclusion all check; else Failed
    naming the first check that failed."""
    if not isinstance(event, dict):
        raise Failed("not an object")
    position = field(event, "position", int)
    if not 1 <= position < 2**64:
        raise Failed(f"position: {position} is not a chain position")
    try:
        originator = UUID(field(event, "originator_id", str))
    except ValueError:
        raise Failed("originator_id: not a UUID") from None
    version = field(event, "originator_version", int)
    if not 0 <= version < 2**64:
        raise Failed("originator_version: out of range")
    topic = field(event, "topic", str)
    digest = hexa(event.get("payload_digest"), "payload_digest", 32)
    state, salt = event.get("state"), event.get("salt")
    withheld, data = state is None and salt is None, None
    if not withheld:
        if state is None:
            raise Failed("state: absent while the salt is given")
        state = field(event, "state", str)
        salt_bytes = hexa(salt, "salt", 16)
        computed = hashlib.sha256(PAYLOAD_PREFIX + salt_bytes + state.encode()).digest()
        if not hmac.compare_digest(computed, digest):
            raise Failed("payload changed: the state and salt do not give the payload digest")
        try:
            data = json.loads(state)
        except (ValueError, RecursionError):
            data = None
    previous = hexa(event.get("previous_hash"), "previous_hash", 32)
    link = hexa(event.get("link_hash"), "link_hash", 32)
    computed_link = hashlib.sha256(
        CHAIN_PREFIX + struct.pack(">Q16sQ", position, originator.bytes, version)
        + lp(topic.encode()) + digest + previous
    ).digest()
    if not hmac.compare_digest(computed_link, link):
        raise Failed("link mismatch: the event does not give the link hash")
    signer = field(event, "signer", str, optional=True)
    signed_at = field(event, "signed_at", str, optional=True)
    key_id = hexa(event.get("key_id") or "", "key_id")
    signature = hexa(event.get("signature") or "", "signature")
    leaf = hashlib.sha256(
        b"\x00" + leaf_data(position, link, digest, signer, key_id, signed_at, signature)
    ).digest()
    path = event.get("inclusion")
    if not isinstance(path, list) or not all(isinstance(h, str) for h in path):
        raise Failed("inclusion: not a list of base64 hashes")
    hashes = [b64(h, "inclusion") for h in path]
    if any(len(h) != 32 for h in hashes):
        raise Failed("inclusion: a hash is not 32 bytes")
    if position > size:
        raise Failed(f"not in the checkpoint: its tree has {size} leaves")
    computed_root = root_from_inclusion(leaf, position - 1, size, hashes)
    if computed_root is None or not hmac.compare_digest(computed_root, root):
        raise Failed("inclusion proof does not lead to the checkpoint's root")
    return Seen(position, originator, version, topic, digest, data, withheld, signer, key_id,
                signed_at, signature)


# --- Whose keys sign where (the README's key registry, from the pack's key history) ----------


def reads_as_time(value: Any) -> bool:
    """An ISO 8601 date (10 characters) or date-time naming an instant in years 1..9999."""
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


def public_key(value: Any) -> bytes | None:
    """The 32 bytes of ``ed25519:BASE64`` (standard alphabet, padded), else None."""
    if not isinstance(value, str) or not value.startswith("ed25519:"):
        return None
    try:
        raw = base64.b64decode(value[8:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


class Registry:
    """Whose keys sign where, by position, and who is a records officer where: the rules of
    the README's "Whose keys sign where", applied to the key events of the pack's history."""

    def __init__(self, history: list[Seen]) -> None:
        self.keys: dict[str, dict[bytes, tuple[bytes, int, list[int]]]] = {}
        self.deactivated: dict[str, list[int]] = {}
        self.transcribes: dict[str, list[tuple[int, bool]]] = {}
        self.genesis: int | None = None
        actors: dict[UUID, str] = {}
        for seen in sorted(history, key=lambda s: s.position):
            data = seen.data
            if seen.topic not in KEY_TOPICS or not isinstance(data, dict):
                continue
            if seen.topic == "ActorRegistered" and isinstance(data.get("key"), str):
                actors[seen.originator] = data["key"]
            actor, raw = actors.get(seen.originator), data.get("public_key")
            public = None if raw is None else public_key(raw)
            if actor is None or not reads_as_time(data.get("effective_at")) or (
                raw is not None and public is None
            ):
                continue
            self._apply(seen.position, actor, seen.topic, public, data)

    def _apply(self, position: int, actor: str, topic: str, public: bytes | None,
               data: dict[str, Any]) -> None:
        keys, correction = self.keys.setdefault(actor, {}), data.get("corrects") is not None
        roles = {"ActorRegistered": data.get("roles"), "ActorRoleGranted": [data.get("granted")],
                 "ActorRoleRevoked": [data.get("revoked")]}.get(topic)
        if isinstance(roles, list) and TRANSCRIBER in roles and not correction:
            self.transcribes.setdefault(actor, []).append(
                (position, topic != "ActorRoleRevoked"))
        kid = None if public is None else hashlib.sha256(public).digest()[:8]
        if correction and (topic in ("ActorKeyRevoked", "ActorDeactivated") or kid in keys):
            return  # a restatement: its keys are already in place
        if topic == "ActorRegistered" and self.genesis is None:
            self.genesis = position
        if topic == "ActorKeyRotated":
            for _, _, ends in keys.values():
                ends.append(position)
        if topic in ("ActorRegistered", "ActorKeyRotated") and public and kid:
            keys[kid] = (public, position, [])
        elif topic == "ActorKeyRevoked" and kid is not None and kid in keys:
            keys[kid][2].append(position)
        elif topic == "ActorDeactivated":
            self.deactivated.setdefault(actor, []).append(position)

    def key(self, position: int, signer: str, kid: bytes) -> bytes:
        """The public key that signs for ``signer`` at ``position``; else Failed, why not."""
        found = self.keys.get(signer, {}).get(kid)
        if found is None:
            raise Failed(f"signature: {signer} has no key {kid.hex()} in the key history")
        public, start, ends = found
        if start >= position and start != self.genesis:
            raise Failed(f"signature: key {kid.hex()} of {signer} is registered only at {start}")
        for end in ends + self.deactivated.get(signer, []):
            if end < position:
                raise Failed(f"signature: key {kid.hex()} of {signer} ended at {end}")
        return public

    def may_sign_for(self, position: int, signer: str, actor: Any) -> bool:
        held = False
        for changed, now in self.transcribes.get(signer, ()):
            if changed < position:
                held = now
        return actor == signer or held


def check_history(items: Any, size: int, root: bytes) -> tuple[list[Seen], Registry]:
    """The key history, each event checked as any other, and complete where the pack can
    show it: the log's first events up to its first registration (whose key signs from
    position 1), and each actor's events without a gap from its registration on."""
    if not isinstance(items, list):
        raise Failed("key_history: missing (a list of the signers' key events)")
    history = []
    for number, item in enumerate(items, 1):
        try:
            history.append(check_chain(item, size, root))
        except Failed as failure:
            raise Failed(f"key_history event {number}: {failure}") from None
        if history[-1].withheld:
            raise Failed(f"key_history event {number}: its state is withheld")
    registry = Registry(history)
    positions = {seen.position for seen in history}
    if registry.genesis is not None and not positions >= set(range(1, registry.genesis + 1)):
        raise Failed(f"key_history: positions 1 to {registry.genesis}, the log's first "
                     "registration and what precedes it, are not all there")
    versions: dict[UUID, set[int]] = {}
    for seen in history:
        versions.setdefault(seen.originator, set()).add(seen.version)
    for seen in history:
        have = versions[seen.originator]
        if seen.topic == "ActorRegistered" and have != set(range(1, max(have) + 1)):
            raise Failed(f"key_history: actor {seen.originator}'s events skip a version "
                         f"(it has {sorted(have)})")
    return history, registry


def check_signature(seen: Seen, registry: Registry, log_id: bytes) -> str:
    """How the event is signed, once its signature is good for its position and its actor."""
    if seen.signer is None or not seen.signature:
        raise Failed("signature: the event is unsigned")
    if not reads_as_time(seen.signed_at):
        raise Failed("signature: signed_at does not read as a time")
    public = registry.key(seen.position, seen.signer, seen.key_id)
    message = (
        SIGNATURE_PREFIX + log_id + seen.originator.bytes + struct.pack(">Q", seen.version)
        + lp(seen.topic.encode()) + seen.digest + lp(seen.signer.encode())
        + lp((seen.signed_at or "").encode())
    )
    if not ed25519_ok(public, seen.signature, message):
        raise Failed(f"bad signature: not {seen.signer}'s signature of this event")
    if seen.withheld:
        return f"signed by {seen.signer} at {seen.signed_at} (its actor withheld)"
    actor = seen.data.get("actor") if isinstance(seen.data, dict) else None
    if not registry.may_sign_for(seen.position, seen.signer, actor):
        raise Failed(f"signature: signed by {seen.signer}, but the event says "
                     f"{str(actor)[:40]} recorded it, and {seen.signer} is not a records "
                     "officer there")
    return f"signed by {seen.signer} at {seen.signed_at}"


# --- The pack --------------------------------------------------------------------------------


def verify(pack: Any, log_key: tuple[str, int, bytes], witnesses: list[tuple[str, bytes]],
           threshold: int) -> list[str]:
    """The OK lines, one per event and one for the key history; Failed at the first
    failure."""
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise Failed(f"pack: not a {FORMAT} evidence pack")
    note = pack.get("checkpoint")
    if not isinstance(note, str):
        raise Failed("checkpoint: missing")
    _, size, root = check_note(note, log_key, witnesses, threshold)
    log_id = bytes(16)
    if pack.get("log_id") is not None:
        try:
            log_id = UUID(str(pack["log_id"])).bytes
        except ValueError:
            raise Failed("log_id: not a UUID") from None
    events = pack.get("events")
    if not isinstance(events, list) or not events:
        raise Failed("events: the pack has none")
    history, registry = check_history(pack.get("key_history"), size, root)
    for seen in history:
        try:
            check_signature(seen, registry, log_id)
        except Failed as failure:
            raise Failed(f"key_history position {seen.position}: {failure}") from None
    lines = []
    for number, event in enumerate(events, 1):
        where = event.get("position") if isinstance(event, dict) else None
        label = f"position {where}" if isinstance(where, int) else f"event {number}"
        try:
            seen = check_chain(event, size, root)
            signed = check_signature(seen, registry, log_id)
        except Failed as failure:
            raise Failed(f"{label}: {failure}") from None
        payload = ("payload withheld, checked from its digest" if seen.withheld
                   else "payload checked")
        lines.append(f"OK position {seen.position} {seen.topic} {seen.originator} "
                     f"v{seen.version}, {signed}; {payload}; leaf {seen.position - 1} of {size}")
    actors = len({seen.originator for seen in history if seen.topic == "ActorRegistered"})
    lines.append(f"OK key history: {len(history)} events of {actors} actors, each signature "
                 "checked against it")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a ledger evidence pack against the log's published key."
    )
    parser.add_argument("pack", help="the evidence pack (JSON)")
    parser.add_argument("--key", required=True, help="the log's signed-note verifier key")
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY",
                        help="a witness's verifier key (repeat for each)")
    parser.add_argument("--threshold", type=int, default=None,
                        help="cosignatures needed (default: every --witness)")
    args = parser.parse_args(argv)
    try:
        log_key = parse_vkey(args.key, "--key")
        if log_key[1] != ED25519:
            raise Unreadable("--key: a log key has type 0x01")
        witnesses = [parse_vkey(text, "--witness")[::2] for text in args.witness]
        threshold = len(witnesses) if args.threshold is None else args.threshold
        if not 0 <= threshold <= len(witnesses):
            raise Unreadable(f"--threshold: {threshold} with {len(witnesses)} witnesses given")
        try:
            with open(args.pack, encoding="utf-8") as handle:
                pack = json.load(handle)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise Unreadable(f"pack: cannot read {args.pack}: {exc}") from None
    except Unreadable as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        lines = verify(pack, log_key, witnesses, threshold)
    except Failed as failure:
        print(f"FAILED {failure}")
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
