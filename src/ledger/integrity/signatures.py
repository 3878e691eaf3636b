"""What an event's signature covers, and which keys were good for which signer where.

Signed message (version 1), for the event at any position:

    "ledger-signature/v1" 0x00
    || log_id (16 bytes; 16 zero bytes for a store made before log ids)
    || originator_id (16 bytes) || uint64_be(originator_version)
    || uint32_be(len(topic)) || topic (UTF-8)
    || payload_digest (32 bytes: the salted digest, so a withheld payload still verifies)
    || uint32_be(len(signer)) || signer (the signing actor's id, UTF-8)
    || uint32_be(len(signed_at)) || signed_at (UTF-8: the event's recorded_at, ISO 8601 UTC)

The chain row keeps signer, key id (8 bytes of SHA-256 of the public key), signature (Ed25519,
64 bytes) and signed_at. A signature from another row fails: its message names another event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

SIGNATURE_PREFIX = b"ledger-signature/v1\x00"
_HEAD = struct.Struct(">16sQ")


def _text(value: str) -> bytes:
    raw = value.encode()
    return len(raw).to_bytes(4, "big") + raw


def signed_message(
    log_id: bytes | None,
    originator: bytes,
    version: int,
    topic: str,
    payload_digest: bytes,
    signer: str,
    signed_at: str,
) -> bytes:
    return (
        SIGNATURE_PREFIX
        + (log_id or bytes(16))
        + _HEAD.pack(originator, version)
        + _text(topic)
        + payload_digest
        + _text(signer)
        + _text(signed_at)
    )


PUBLIC_KEY_PREFIX = "ed25519:"


def parse_public_key(text: str) -> bytes:
    """The 32 raw bytes of a public key written ``ed25519:BASE64``; ValueError otherwise."""
    if not isinstance(text, str) or not text.startswith(PUBLIC_KEY_PREFIX):
        raise ValueError(f"a public key is written {PUBLIC_KEY_PREFIX}BASE64")
    try:
        raw = base64.b64decode(text[len(PUBLIC_KEY_PREFIX):], validate=True)
    except binascii.Error:
        raise ValueError("the public key is not base64") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def public_key_text(raw: bytes) -> str:
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode()


def key_id(raw_public: bytes) -> bytes:
    """Which of an actor's keys signed: 8 bytes of the public key's SHA-256."""
    return hashlib.sha256(raw_public).digest()[:8]


def utc_moment(value: str) -> datetime | None:
    """An ISO date or timestamp as an aware UTC time (a date is its first instant, UTC);
    None when it cannot be read (a forged row says anything)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


KEY_TOPICS = ("ActorRegistered", "ActorKeyRotated", "ActorKeyRevoked", "ActorDeactivated",
              "ActorRoleGranted", "ActorRoleRevoked")
"""The events that change whose keys are good, and who may sign for another actor (a records
officer's transcription): verify reads these payloads to check the rest."""

TRANSCRIBER = "records_officer"
"""The role whose holder may sign events that name another actor: a document's transcription."""

_KINDS = {"ActorRegistered": "registered", "ActorKeyRotated": "rotated",
          "ActorKeyRevoked": "revoked", "ActorDeactivated": "deactivated",
          "ActorRoleGranted": "granted", "ActorRoleRevoked": "ungranted"}


def _roles(topic: str, data: dict[str, Any]) -> tuple[str, ...]:
    found = {"ActorRegistered": data.get("roles"), "ActorRoleGranted": [data.get("granted")],
             "ActorRoleRevoked": [data.get("revoked")]}.get(topic)
    return tuple(r for r in found if isinstance(r, str)) if isinstance(found, list) else ()


def key_changes(rows: Iterable[tuple[int, Any, str, Any]]) -> Iterator[KeyChange]:
    """The key events (position, originator id, topic, payload), as changes to whose keys are
    good, read as plain JSON: a payload that does not parse, or an actor never registered, is
    skipped (verify reports an edited payload at its own position). The one reading of key
    events, for verify and for a write checking its own signature before it is made."""
    actors: dict[Any, str] = {}
    for position, originator, topic, state in rows:
        try:
            data = state if isinstance(state, dict) else json.loads(state)
            if not isinstance(data, dict):
                continue
            if topic == "ActorRegistered" and isinstance(data.get("key"), str):
                actors[originator] = data["key"]
            actor = actors[originator]
            raw = data.get("public_key")
            effective = utc_moment(data["effective_at"])
            public = None if raw is None else parse_public_key(raw)
        except (KeyError, TypeError, ValueError):
            continue
        if effective is None:
            continue
        yield KeyChange(position, actor, _KINDS[topic], public, effective,
                        data.get("corrects") is not None, _roles(topic, data))


class KeyChange(NamedTuple):
    """One change to an actor's keys, at a position of the log, effective from a time."""

    position: int
    actor: str
    kind: str  # registered | rotated | revoked | deactivated | granted | ungranted
    public_key: bytes | None
    effective: datetime
    correction: bool = False
    """It corrects another key event: it restates a fact whose keys are already in place."""
    roles: tuple[str, ...] = ()
    """The roles it registers, grants or revokes."""


@dataclass
class _Key:
    public: bytes
    added: int
    ends: list[tuple[int, datetime]] = field(default_factory=list)
    """Revocations: (position recorded, effective from)."""


class KeyRegistry:
    """Whose keys were good where, by position in the log: a key signs the events after the
    one that registered it, up to and including the rotation, revocation or deactivation that
    ends it (which another actor, or the new key's owner, records). The log's first
    registration (the genesis administrator's) signs from position 1."""

    def __init__(self, changes: Iterable[KeyChange]) -> None:
        self.keys: dict[str, dict[bytes, _Key]] = {}
        self.deactivated: dict[str, list[tuple[int, datetime]]] = {}
        self.genesis: int | None = None
        self.transcribes: dict[str, list[tuple[int, bool]]] = {}
        """Per actor, from which positions it held the records officer's role, and did not."""
        for change in sorted(changes, key=lambda c: c.position):
            self._apply(change)

    def _apply(self, change: KeyChange) -> None:
        keys = self.keys.setdefault(change.actor, {})
        if TRANSCRIBER in change.roles and not change.correction:
            held = change.kind != "ungranted"
            self.transcribes.setdefault(change.actor, []).append((change.position, held))
        if change.correction and (
            change.kind in ("revoked", "deactivated")
            or (change.public_key is not None and key_id(change.public_key) in keys)
        ):
            return  # restated: starting its key afresh would undo what it signed before
        if change.kind in ("registered", "rotated"):
            if change.kind == "rotated":
                for key in keys.values():
                    key.ends.append((change.position, change.effective))
            if change.public_key is not None:
                kid = key_id(change.public_key)
                keys[kid] = _Key(change.public_key, change.position)
            if change.kind == "registered" and self.genesis is None:
                self.genesis = change.position
        elif change.kind == "revoked" and change.public_key is not None:
            revoked = keys.get(key_id(change.public_key))
            if revoked is not None:
                revoked.ends.append((change.position, change.effective))
        elif change.kind == "deactivated":
            self.deactivated.setdefault(change.actor, []).append(
                (change.position, change.effective)
            )

    def may_sign_for(self, position: int, signer: str, actor: Any) -> str | None:
        """None when ``signer`` may sign an event at ``position`` that says ``actor`` recorded
        it: its own, or any as a records officer then (from the event after the one that
        gave it the role, up to and including the one that took it away); else why not."""
        if actor == signer:
            return None
        held = False
        for changed, now in self.transcribes.get(signer, ()):
            if changed < position:
                held = now
        if held:
            return None
        return (f"signed by {signer}, but the event says {str(actor)[:40]} recorded it, and "
                f"{signer} is not a records officer there")

    def public_key(
        self, position: int, signer: str, key_id: bytes, signed_at: datetime
    ) -> tuple[bytes | None, str]:
        """The public key to check a signature with, or None and why it cannot be good."""
        key = self.keys.get(signer, {}).get(key_id)
        if key is None:
            return None, f"{signer} has no registered key {key_id.hex()}"
        if key.added >= position and key.added != self.genesis:
            return None, f"key {key_id.hex()} of {signer} is registered only at {key.added}"
        for ended, _ in key.ends:
            if ended < position:
                return None, f"key {key_id.hex()} of {signer} was revoked at {ended}"
        for ended, _ in self.deactivated.get(signer, ()):
            if ended < position:
                return None, f"{signer} was deactivated at {ended}"
        return key.public, ""
