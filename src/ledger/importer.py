"""Imports the seed documents: one atomic append per document, and never the same text twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .domain import DomainError, Role
from .permissions import NotPermitted
from .seeds import Document, fact, registry
from .services import Ledger


@dataclass
class Imported:
    document: str
    added: int
    already: bool = False
    findings: list[str] = field(default_factory=list)


def documents(which: str = "all") -> list[Document]:
    known = registry()
    if which == "all":
        return list(known.values())
    if which not in known:
        raise DomainError("document", f"no document '{which}' (known: {', '.join(known)})")
    return [known[which]]


def _require_records_officer(ledger: Ledger) -> None:
    """Documents are transcribed by a records officer, who signs every event of an import."""
    signer = ledger.signer
    actor = None if signer is None else ledger.get("actor", signer.actor)
    if actor is None or Role.RECORDS_OFFICER not in actor.roles:  # type: ignore[attr-defined]
        who = "nobody" if signer is None else signer.actor
        raise NotPermitted("as", f"importing documents is for a records officer, not {who}")


def import_document(ledger: Ledger, document: Document) -> Imported:
    """Parses and appends the document's facts in one batch, or adds nothing.

    A document already registered with the same text adds nothing; with a different text it
    is refused: a changed source is a new document, not an edit of the old one.
    """
    _require_records_officer(ledger)
    text = document.text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    known = ledger.get("document", document.key)
    if known is not None:
        if known.sha256 != digest:  # type: ignore[attr-defined]
            raise DomainError("document", f"{document.key} was imported from another text "
                                          f"(sha256 {known.sha256[:12]}…)")  # type: ignore[attr-defined]
        return Imported(document.key, 0, already=True)
    parsed = document.parse(text)
    bodies = [
        fact("BodyEstablished", key, since, by=(document.by[0], document.by[1], key),
             document=document.key, lines="named in the document", name=name,
             body_type=body_type,
             note="in existence by this date; its establishment date is not in the sources")
        for key, name, body_type, since in document.bodies
        if ledger.get("body", key) is None
    ]
    registered = fact("SourceDocumentRegistered", document.key, document.issued,
                      by=document.by, document=document.key,
                      lines=f"lines 1-{len(text.splitlines())}", title=document.title,
                      sha256=digest, line_count=len(text.splitlines()))
    recorded = ledger.record([*bodies, registered, *parsed.facts])
    return Imported(document.key, len(recorded), findings=parsed.findings)
