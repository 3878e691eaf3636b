"""Signed checkpoints in the transparency-log formats, so tools that are not ours check them.
Pure: signing and verifying are passed in (``Signer.sign`` and ``keys.verify_signature``), so
only ``adapters/keys.py`` imports the crypto library.

- C2SP signed-note (c2sp.org/signed-note): a note is a text ending in a newline, a blank line,
  then signature lines ``— <key name> base64(key ID || signature)``. Key ID = the first 4 bytes
  of SHA-256(key name || 0x0A || signature type || public key); Ed25519 is type 0x01 and signs
  the text. A verifier key (vkey) is written ``<name>+<hex key ID>+base64(type || public key)``.
  A signature by a key the verifier does not know is ignored; a known key's bad signature
  rejects the note; a note no known key signed is rejected.
- C2SP tlog-checkpoint: the note text is the origin, the tree size in decimal and the base64
  RFC 6962 root, each on its own line (extension lines may follow; we write none). The log's
  key name is its origin.
- C2SP tlog-cosignature, Ed25519 (type 0x04): a witness signs ``cosignature/v1\\n``, ``time
  <POSIX seconds>\\n``, then the checkpoint text; the signature line carries key ID ||
  uint64_be(time) || Ed25519 signature. A cosignature says the witness saw no other history.
- C2SP tlog-proof: ``c2sp.org/tlog-proof@v1``, optional ``extra <base64>``, ``index <n>``, the
  inclusion hashes in base64 one per line, a blank line, then the signed checkpoint verbatim.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .merkle import EMPTY_ROOT, verify_consistency

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
"""Signature types (signed-note): a log's Ed25519 key; a witness's timestamped cosignature."""
KEY_SIZE = 32
SIGNATURE_SIZE = 64
MAX_SIGNATURES = 64
"""A note with more signature lines is refused (the spec asks verifiers to accept 16)."""
MAX_TIMESTAMP = 2**63 - 1
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"

Sign = Callable[[bytes], bytes]
"""sign(message) -> the 64-byte Ed25519 signature (``Signer.sign``)."""
Verify = Callable[[bytes, bytes, bytes], bool]
"""verify(public key, signature, message) -> good or not (``keys.verify_signature``)."""


class NoteError(ValueError):
    """A note, key, checkpoint or proof is malformed or does not verify; the message says
    which part and why, in one line."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str, what: str) -> bytes:
    """Standard base64, canonical only (re-encoding gives the same text)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: not base64") from None
    if _b64(raw) != text:
        raise NoteError(f"{what}: not canonical base64")
    return raw


def _check_text(text: str, what: str) -> None:
    """Notes are UTF-8 text with no control character but the newline."""
    for ch in text:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            raise NoteError(f"{what}: control character U+{ord(ch):04X}")


def _check_name(name: str, what: str) -> None:
    if not name:
        raise NoteError(f"{what}: empty key name")
    if "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"{what}: a key name has no spaces and no '+'")
    _check_text(name, what)


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


# --- Verifier keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    """A public key under a name: a log's (type 0x01) or a witness's (type 0x04)."""

    name: str
    public: bytes
    key_type: int = ED25519

    def __post_init__(self) -> None:
        _check_name(self.name, "verifier key")
        if self.key_type not in (ED25519, COSIGNATURE_V1):
            raise NoteError(
                f"verifier key: signature type 0x{self.key_type:02x} is not 0x01 or 0x04"
            )
        if len(self.public) != KEY_SIZE:
            raise NoteError(f"verifier key: an Ed25519 public key is {KEY_SIZE} bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public)

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.key_type]) + self.public)}"

    def __str__(self) -> str:
        return self.text

    def as_cosigner(self) -> VerifierKey:
        """The same name and key, as a tlog-cosignature/v1 key (type 0x04, its own key ID)."""
        return VerifierKey(self.name, self.public, COSIGNATURE_V1)


def parse_verifier_key(text: str) -> VerifierKey:
    """A vkey ``name+hexid+base64(type || key)``; NoteError naming the bad part otherwise."""
    name, _, rest = text.strip().partition("+")
    hex_id, plus, encoded = rest.partition("+")  # the base64 may hold '+' too
    if not plus:
        raise NoteError("verifier key: written <name>+<hex key ID>+<base64 key>")
    _check_name(name, "verifier key")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError("verifier key: the key ID is 8 lowercase hex digits")
    raw = _unb64(encoded, "verifier key")
    if len(raw) != 1 + KEY_SIZE or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("verifier key: not an Ed25519 key (type 0x01 or 0x04, 32 bytes)")
    key = VerifierKey(name, raw[1:], raw[0])
    if key.key_id.hex() != hex_id:
        raise NoteError(
            f"verifier key: key ID {hex_id} does not match the key ({key.key_id.hex()})"
        )
    return key


# --- Signed notes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and ID, and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"\u2014 {self.name} {_b64(self.key_id + self.signature)}\n"

    def by(self, key: VerifierKey) -> bool:
        return self.name == key.name and self.key_id == key.key_id


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...] = ()

    def __str__(self) -> str:
        return self.text + "\n" + "".join(sig.line for sig in self.signatures)

    def with_signature(self, signature: Signature) -> Note:
        """This note signed also by ``signature``'s key (replacing that key's earlier one)."""
        kept = tuple(
            s for s in self.signatures
            if (s.name, s.key_id) != (signature.name, signature.key_id)
        )
        return Note(self.text, (*kept, signature))


_SIGNATURE_LINE = re.compile("\u2014 ([^ \n]+) ([A-Za-z0-9+/=]+)")


def parse_note(raw: str | bytes) -> Note:
    """A signed note's text and signatures (not yet verified: see ``verify_note``)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note: not UTF-8") from None
    _check_text(raw, "note")
    split = raw.rfind("\n\n")
    if split < 0:
        raise NoteError("note: no blank line before the signatures")
    text, block = raw[: split + 1], raw[split + 2:]
    if not block.endswith("\n"):
        raise NoteError("note: the signatures do not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note: more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, 1):
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise NoteError(f"note: signature line {number} is not '\u2014 <name> <base64>'")
        name = match.group(1)
        _check_name(name, f"note: signature line {number}")
        value = _unb64(match.group(2), f"note: signature line {number}")
        if len(value) < 5:
            raise NoteError(f"note: signature line {number} is too short")
        signatures.append(Signature(name, value[:4], value[4:]))
    return Note(text, tuple(signatures))


def sign_text(text: str, key: VerifierKey, sign: Sign) -> Signature:
    """An Ed25519 (type 0x01) signature of a note text by ``key``'s private half."""
    if key.key_type != ED25519:
        raise NoteError("sign: a note is signed with a type 0x01 key; witnesses use cosign")
    if not text.endswith("\n"):
        raise NoteError("sign: a note text ends with a newline")
    _check_text(text, "sign")
    return Signature(key.name, key.key_id, sign(text.encode()))


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What a tlog-cosignature/v1 Ed25519 witness signs for a checkpoint text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature: timestamp {timestamp} is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class Verified:
    """A good signature on a note: whose, and (cosignatures) when, in POSIX seconds."""

    key: VerifierKey
    timestamp: int | None = None


def _check(signature: Signature, key: VerifierKey, text: str, verify: Verify) -> Verified:
    if key.key_type == COSIGNATURE_V1:
        if len(signature.signature) != 8 + SIGNATURE_SIZE:
            raise NoteError(f"note: cosignature by {key.name} is malformed")
        timestamp = int.from_bytes(signature.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP or not verify(
            key.public, signature.signature[8:], cosignature_message(text, timestamp)
        ):
            raise NoteError(f"note: bad cosignature by {key.name}")
        return Verified(key, timestamp)
    if len(signature.signature) != SIGNATURE_SIZE or not verify(
        key.public, signature.signature, text.encode()
    ):
        raise NoteError(f"note: bad signature by {key.name}")
    return Verified(key)


def good_signatures(note: Note, keys: Iterable[VerifierKey], verify: Verify) -> list[Verified]:
    """The signatures on ``note`` by ``keys``, each checked; others are ignored. A known key's
    bad signature raises NoteError (the whole note is refused)."""
    known = list(dict.fromkeys(keys))
    good = []
    for signature in note.signatures:
        for key in known:
            if signature.by(key):
                good.append(_check(signature, key, note.text, verify))
    return good


def verify_note(note: Note, keys: Iterable[VerifierKey], verify: Verify) -> list[Verified]:
    """``good_signatures``, refusing a note that none of ``keys`` signed."""
    known = list(keys)
    good = good_signatures(note, known, verify)
    if not good:
        names = ", ".join(key.name for key in known) or "no key given"
        raise NoteError(f"note: not signed by a known key ({names})")
    return good


# --- Checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, the tree size and its root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The note text (tlog-checkpoint): origin, size, base64 root, each ending in \\n."""
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint: the origin is one non-empty line")
        _check_text(self.origin, "checkpoint")
        if self.size < 0 or len(self.root) != 32:
            raise NoteError("checkpoint: a size of 0 or more and a 32-byte root")
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


_SIZE = re.compile(r"0|[1-9][0-9]*")


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note text states; NoteError naming the bad line otherwise."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint: the text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint: needs an origin, a tree size and a root hash line")
    if any(not line for line in lines):
        raise NoteError("checkpoint: an empty line in the checkpoint text")
    origin, size, root = lines[:3]
    if not _SIZE.fullmatch(size) or int(size) >= 2**64:
        raise NoteError(f"checkpoint: tree size {size!r} is not a decimal number")
    digest = _unb64(root, "checkpoint: root hash")
    if len(digest) != 32:
        raise NoteError("checkpoint: the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest, tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, key: VerifierKey, sign: Sign) -> str:
    """The signed note of ``checkpoint`` (the text to write to a .note file)."""
    text = checkpoint.text
    return str(Note(text, (sign_text(text, key, sign),)))


def open_checkpoint(
    raw: str | bytes, log_key: VerifierKey, verify: Verify, *, origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """The checkpoint in a signed note, once its signature by ``log_key`` verifies (and its
    origin is ``origin`` when given); NoteError otherwise."""
    note = parse_note(raw)
    verify_note(note, [log_key], verify)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint: origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, note


def cosign(note: Note, witness: VerifierKey, sign: Sign, timestamp: int) -> Note:
    """``note`` with a tlog-cosignature/v1 by ``witness`` at ``timestamp`` (POSIX seconds)
    added. The caller checks first that the checkpoint is the log's and consistent with the
    last one this witness cosigned: a cosignature vouches for that."""
    key = witness if witness.key_type == COSIGNATURE_V1 else witness.as_cosigner()
    parse_checkpoint(note.text)
    signature = sign(cosignature_message(note.text, timestamp))
    return note.with_signature(
        Signature(key.name, key.key_id, timestamp.to_bytes(8, "big") + signature)
    )


def check_cosignatures(
    note: Note, witnesses: Iterable[VerifierKey], threshold: int, verify: Verify
) -> list[Verified]:
    """The witnesses' good cosignatures on ``note``; NoteError when fewer than ``threshold``
    distinct witnesses cosigned, or when a known witness's cosignature is bad. A witness key
    given as type 0x01 is taken as its cosignature (0x04) key, as Go's note package does."""
    keys = [w if w.key_type == COSIGNATURE_V1 else w.as_cosigner() for w in witnesses]
    keys = list(dict.fromkeys(keys))
    if threshold < 0:
        raise NoteError(f"witnesses: threshold {threshold} is negative")
    if threshold > len(keys):
        raise NoteError(f"witnesses: threshold {threshold} is more than the {len(keys)} given")
    good = good_signatures(note, keys, verify)
    distinct = {v.key for v in good}
    if len(distinct) < threshold:
        raise NoteError(
            f"witnesses: {len(distinct)} of {len(keys)} cosigned, {threshold} needed"
        )
    return good


def check_consistent(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """NoteError unless ``new`` is the same log as ``old``, grown by appends only (RFC 9162
    consistency proof ``proof``); an empty old tree needs no proof, only the empty root."""
    if old.origin != new.origin:
        raise NoteError(f"consistency: origin {new.origin!r} is not {old.origin!r}")
    if new.size < old.size:
        raise NoteError(f"consistency: the log shrank from {old.size} to {new.size} leaves")
    if old.size == 0:
        if old.root != EMPTY_ROOT or proof:
            raise NoteError("consistency: an empty tree has the empty root and no proof")
        return
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise NoteError(
            f"consistency: the tree of {new.size} leaves does not extend the one of {old.size}"
        )


# --- tlog-proof -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TlogProof:
    """A self-contained inclusion proof (c2sp.org/tlog-proof@v1)."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    """The signed checkpoint note, verbatim."""
    extra: bytes | None = None

    @property
    def text(self) -> str:
        lines = [TLOG_PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {_b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(_b64(h) for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise NoteError("tlog-proof: no blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise NoteError(f"tlog-proof: the first line is not {TLOG_PROOF_HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _unb64(rest[0][6:], "tlog-proof: extra")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index ") or not _SIZE.fullmatch(rest[0][6:]):
        raise NoteError("tlog-proof: no 'index <n>' line")
    index = int(rest[0][6:])
    hashes = tuple(_unb64(line, f"tlog-proof: hash {n}") for n, line in enumerate(rest[1:], 1))
    if any(len(h) != 32 for h in hashes):
        raise NoteError("tlog-proof: a hash is not 32 bytes")
    return TlogProof(index, hashes, checkpoint, extra)


def tlog_proof(index: int, hashes: Sequence[bytes], checkpoint: str) -> str:
    return TlogProof(index, tuple(hashes), checkpoint).text
