"""Source documents as entities: what was imported, when, and exactly which text."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Aggregate, Event, Key, ShortText


class SourceDocumentRegistered(Event):
    """The text of a document the ledger holds facts from; its SHA-256 pins the exact text."""

    creates = True
    key: Key
    title: ShortText
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    line_count: int = Field(ge=1)


class SourceDocument(Aggregate):
    kind = "document"
    created_by = SourceDocumentRegistered
    title: str
    sha256: str
    line_count: int
