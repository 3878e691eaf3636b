"""Ed25519 keys on disk: the only module that imports the crypto library.

A private key never enters the ledger. Each actor's key is one file in the key directory
(``LEDGER_KEY_DIR``, default ``~/.config/ledger/keys``), ``<actor>.key``, holding the 32-byte
private seed in base64 on one line, mode 0600 in a 0700 directory. Public keys are written
``ed25519:<base64 of the 32 raw bytes>`` wherever they appear (registrations, output).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..integrity.signatures import key_id, parse_public_key, public_key_text

__all__ = ["KeyDir", "KeyFileError", "Signer", "key_dir", "key_id", "parse_public_key",
           "public_key_text", "verify_signature"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,127}$")


class KeyFileError(Exception):
    """A key cannot be made, found or read; the message names the actor and the file."""


def key_dir() -> Path:
    configured = os.environ.get("LEDGER_KEY_DIR")
    return Path(configured) if configured else Path.home() / ".config" / "ledger" / "keys"


@dataclass(frozen=True)
class Signer:
    """An actor's private key, able to sign; made only from a key file or a new key."""

    actor: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, actor: str) -> Signer:
        """A new key held only in memory (tests, throwaway stores)."""
        return cls(actor, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, actor: str, seed: bytes) -> Signer:
        return cls(actor, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_text(self) -> str:
        return public_key_text(self.public)

    @functools.cached_property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @functools.cached_property
    def key_id(self) -> bytes:
        return key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def verify_signature(raw_public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        _public_key(raw_public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1024)  # a log has few keys; verify checks every row with one
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


class KeyDir:
    """The actors' private keys on this machine."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or key_dir()

    def file(self, actor: str) -> Path:
        if not _NAME.match(actor):
            raise KeyFileError(f"as: '{actor}' is not an actor id")
        return self.path / f"{actor}.key"

    def new(self, actor: str) -> Signer:
        """A new key for ``actor``; an existing key file is never overwritten."""
        return self.save(Signer.generate(actor))

    def save(self, signer: Signer) -> Signer:
        """Writes a key made in memory to its file (mode 0600), never over an existing one."""
        path = self.file(signer.actor)
        if path.exists():
            raise KeyFileError(f"key: {signer.actor} already has a key ({path})")
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        seed = base64.b64encode(signer.private.private_bytes_raw()).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(seed + "\n")
        return signer

    def signer(self, actor: str) -> Signer:
        path = self.file(actor)
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise KeyFileError(
                f"key: no private key for {actor} in {self.path} (create one with "
                f"`ledger key new {actor}`, or set LEDGER_KEY_DIR)"
            ) from None
        except OSError as exc:
            raise KeyFileError(f"key: cannot read {path}: {exc.strerror}") from None
        try:
            seed = base64.b64decode(text, validate=True)
            return Signer(actor, Ed25519PrivateKey.from_private_bytes(seed))
        except (binascii.Error, ValueError):
            raise KeyFileError(f"key: {path} does not hold an Ed25519 private key") from None

    def has(self, actor: str) -> bool:
        return self.file(actor).exists()

    def signer_or_new(self, actor: str) -> Signer:
        return self.signer(actor) if self.has(actor) else self.new(actor)
