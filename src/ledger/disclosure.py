"""The read policy: what each reader is shown of what the log holds. Every read goes through it.

The log keeps every byte of every event; a reader is shown a *view* of each event in which the
fields withheld from it read ``withheld (<basis>)``. A field is withheld from a reader when

- the event is a confidential Record of Decision and the field is one of its words
  (``CONFIDENTIAL_FIELDS``), on the decision's own ``confidential_reason``; or
- a later ``EventRedacted`` on the same entity names the field (or ``*``: all its text), on the
  redaction's legal ``basis``;

and no later ``RedactionReleased`` names it, and the reader does not see the content of the
event's body (``SEES_CONTENT``). Redactions and releases are public facts themselves. Views are
the only thing the read models, the CLI's reads, the evidence pack and the public copy are
built from, so a withheld word can be neither shown nor searched for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .domain import Event, Role, effective_events
from .domain.disclosure import (
    DISCLOSURE_EVENTS,
    Disclosure,
    confidential_fields,
    withheld_fields,
)

if TYPE_CHECKING:
    from .domain.actors import Actor
    from .services import Ledger

SEES_CONTENT = frozenset({
    Role.OFFICER, Role.CHIEF_EXECUTIVE, Role.CHIEF_FINANCE_OFFICER, Role.TREASURER,
    Role.COMMISSIONER, Role.DEPUTY_COMMISSIONER, Role.AUTHORITY_MEMBER, Role.AUDITOR,
})
"""The roles that read the withheld content of the body they act for. Everyone else (Panel
members, inspectors, administrators, records officers, the chief constable, actors of other
bodies, and anyone reading without an identity) reads as the public. The README's "Read
policy" table says the same."""

DISCLOSURE_TOPICS = tuple(cls.__name__ for cls in DISCLOSURE_EVENTS)


def marker(basis: str) -> str:
    """How a withheld field reads, in every format."""
    return f"withheld ({basis})"


@dataclass(frozen=True)
class Reader:
    """Who is reading: an actor proven by its key, or the public (``actor`` None)."""

    actor: str | None = None
    bodies: frozenset[str] = frozenset()
    """The bodies whose withheld content this reader sees."""

    @classmethod
    def of(cls, actor: Actor) -> Reader:
        sees = actor.active and any(role in SEES_CONTENT for role in actor.roles)
        return cls(actor.key, frozenset({actor.acts_for}) if sees else frozenset())

    @property
    def audience(self) -> str:
        """Readers of one audience are shown the same views (read models are kept per
        audience): 'public', or the bodies whose content they see."""
        return "+".join(sorted(self.bodies)) if self.bodies else "public"


PUBLIC = Reader()


@dataclass
class ReadPolicy:
    """What one reader is shown, given the disclosure events of the entities that have any."""

    reader: Reader = PUBLIC
    changes: dict[UUID, list[Disclosure]] = field(default_factory=dict)
    """Per withheld event's id: the effective redactions and releases naming it, in order."""
    sources: tuple[int, ...] = ()
    """Positions of the disclosure events (and their corrections) this policy was built from."""
    raw: bool = False
    """Shows every event as stored: for the ledger's own work on events it does not show (a
    restatement copies the event it corrects), never for output."""

    @classmethod
    def unfiltered(cls) -> ReadPolicy:
        return cls(raw=True)

    @classmethod
    def of(cls, reader: Reader, histories: Iterable[Sequence[Event]],
           sources: Sequence[int] = ()) -> ReadPolicy:
        changes: dict[UUID, list[Disclosure]] = defaultdict(list)
        for history in histories:
            for event in effective_events(history):
                if isinstance(event, Disclosure):
                    changes[event.event].append(event)
        return cls(reader, dict(changes), tuple(sources))

    def withheld(self, event: Event) -> dict[str, str]:
        """The fields of ``event`` withheld from this reader, with their basis (those that
        hold anything)."""
        if self.raw:
            return {}
        # an event's id is a hash: worked out only where some redaction could name it
        changes = self.changes.get(event.id, ()) if self.changes else ()
        if not (changes or confidential_fields(event)) or event.body in self.reader.bodies:
            return {}
        return {name: basis for name, basis in withheld_fields(event, changes).items()
                if getattr(event, name, None)}

    def view(self, event: Event) -> Event:
        """The event as this reader is shown it."""
        withheld = self.withheld(event)
        if not withheld:
            return event
        return event.model_copy(update={name: marker(basis) for name, basis in withheld.items()})

def identify(ledger: Ledger, actor_id: str) -> Reader:
    """The reader an actor is, proven by its private key in the key directory (as a write
    is): typing another actor's id shows nothing more than the public sees."""
    from .adapters.keys import KeyDir, KeyFileError
    from .domain import aggregate_id, fold
    from .domain.actors import Actor
    from .permissions import NotPermitted

    actor = fold(Actor, ledger._load(aggregate_id("actor", actor_id)))
    if actor is None:
        raise NotPermitted("as", f"no actor '{actor_id}' in the ledger")
    if not actor.active:
        raise NotPermitted("as", f"{actor_id} was deactivated: read without --as, as the "
                                 "public")
    try:
        signer = KeyDir().signer(actor_id)
    except KeyFileError as exc:
        raise NotPermitted("as", f"reading as {actor_id} needs its key: {exc}") from None
    if signer.public_text not in actor.public_keys:
        raise NotPermitted("as", f"the key for {actor_id} in the key directory is not one "
                                 "it has registered")
    return Reader.of(actor)


def for_entity(reader: Reader, history: Sequence[Event]) -> ReadPolicy:
    """The policy for reading one entity: its disclosures are in its own history."""
    return ReadPolicy.of(reader, [history])


def withheld_summary(policy: ReadPolicy, event: Event) -> Mapping[str, Any] | None:
    """What a pack or a public copy says in place of a withheld payload."""
    withheld = policy.withheld(event)
    if not withheld:
        return None
    return {"fields": sorted(withheld), "basis": sorted(set(withheld.values()))}


def export_public(source_url: str, out: Path) -> None:
    """The public copy of the store at ``source_url`` in ``out`` (see ``public_copy``): what
    publication builds from."""
    from .public_copy import export_public as export
    from .services import Ledger

    with Ledger(source_url, mode="read") as ledger:
        export(ledger, out)
