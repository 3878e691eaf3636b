"""Application services: record facts atomically, read entities and their histories.

A command names an event type, the entity's key and the fields. The service loads the entity,
checks references and the entity's rules, builds the validated event and appends the whole
batch in one transaction, or nothing at all.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import EventStore, IntegrityError, PersistenceError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import permissions, world
from .adapters.chain import Sign, Signature
from .adapters.codec import EventMapper, decode_event
from .adapters.store import (
    ChainReader,
    GenesisRefused,
    StoreError,
    StoreLocation,
    as_uuid,
    close_recorder,
    open_recorder,
    open_standin,
    store_exists,
)
from .disclosure import DISCLOSURE_TOPICS, PUBLIC, Reader, ReadPolicy, for_entity
from .domain import (
    Aggregate,
    DomainError,
    Event,
    aggregate_id,
    aggregate_kind,
    aggregate_of,
    event_id,
    event_type,
    fold,
)
from .domain.base import A, check_correction, domain_error_from
from .domain.catalogue import ANY_KIND
from .domain.disclosure import Disclosure, check_disclosure
from .domain.wording import a
from .integrity.signatures import signed_message

if TYPE_CHECKING:
    from .adapters.keys import Signer

REFERENCES: Mapping[str, str] = {
    "body": "body",
    "acts_for": "body",
    "from_body": "body",
    "to_body": "body",
    "funding_body": "body",
    "office_body": "body",
    "inspectorate": "body",
    "inspected_body": "body",
    "panel": "body",
    "plan": "plan",
    "to_plan": "plan",
    "by_decision": "decision",
}
"""Fields that name another entity, by the same name everywhere: each must already exist."""


@functools.cache
def _references_of(cls: type[Event]) -> tuple[tuple[str, str], ...]:
    return tuple((f, kind) for f, kind in REFERENCES.items() if f in cls.model_fields)


class ConflictError(Exception):
    """Another writer changed the entity between read and write."""


class Fact(BaseModel):
    """A command to record one fact: the event type, the entity's key, and the event's fields.

    ``kind`` is needed only for a retraction, which can apply to any kind of entity.
    """

    model_config = ConfigDict(frozen=True)

    type: str
    key: str
    fields: dict[str, Any] = Field(default_factory=dict)
    kind: str | None = None


GENESIS_SOURCE = {"document": "ledger-init", "location": ""}


def genesis(
    *, admin: str, name: str, body: str, body_name: str, body_type: str, public_key: str,
    effective_at: str, roles: Sequence[str] = ("administrator",),
) -> list[Fact]:
    """A new log's first facts: the body that keeps it, and its administrator with its key."""
    envelope = {"actor": admin, "role": "administrator", "body": body,
                "effective_at": effective_at, "source": GENESIS_SOURCE}
    return [
        Fact(type="BodyEstablished", key=body,
             fields={**envelope, "name": body_name, "body_type": body_type}),
        Fact(type="ActorRegistered", key=admin,
             fields={**envelope, "name": name, "acts_for": body, "roles": list(roles),
                     "public_key": public_key}),
    ]


class Recorded(NamedTuple):
    position: int
    event: Event


class _LedgerApplication:
    """What the ledger uses of an eventsourcing application: its event store, wired to our
    recorder and canonical-JSON mapper. (eventsourcing's ``Application`` would also build a
    persistence factory, a repository and a notification log that nothing here reads, at a
    cost to every command's start-up.)"""

    def __init__(self, recorder: Any) -> None:
        self.events: EventStore[UUID] = EventStore(EventMapper(), recorder)


class Ledger:
    """The ledger's service layer: every entry point (CLI, importer, tests) goes through here.

    ``mode`` says what opening may do to the store: "read" opens it read-only and never
    creates or alters it; "write" opens it for appends, and a store that does not exist yet is
    created by the first append that is accepted (so a refused command creates nothing);
    "create" makes the store now if it is absent.
    """

    def __init__(self, url: str, *, mode: str = "write", signer: Signer | None = None,
                 reader: Reader = PUBLIC) -> None:
        self.location = StoreLocation.parse(url)
        self.mode = mode
        self.signer = signer
        """Signs this ledger's writes unless a write names its own signer."""
        self.reader = reader
        """Whom the reads are for: what they show passes the read policy (``disclosure``)."""
        self.absent = mode == "write" and not store_exists(self.location)
        if self.absent:  # an empty stand-in answers reads until the first append
            self._attach(open_standin())
        else:
            self._attach(open_recorder(self.location, mode))

    def _attach(self, recorder: Any) -> None:
        self.recorder = recorder
        self.app = _LedgerApplication(recorder)
        self.chain = ChainReader(recorder)

    def close(self) -> None:
        close_recorder(self.recorder)

    def _refresh(self) -> None:
        """A stand-in gives way to the store once another writer has created it."""
        if self.absent and store_exists(self.location):
            self._replace(open_recorder(self.location, "write"))

    def _replace(self, recorder: Any) -> None:
        close_recorder(self.recorder)
        self._attach(recorder)
        self.absent = False

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(
        self,
        facts: Iterable[Fact],
        *,
        now: datetime | None = None,
        acting: str | None = None,
        signer: Signer | None = None,
    ) -> list[Recorded]:
        """Appends every fact or none, each event signed by ``signer`` (else the ledger's
        own ``signer``); raises DomainError, NotPermitted, ConflictError or StoreError.
        ``acting`` names the actor on whose behalf the facts are recorded: each is then
        checked against that actor's roles and body (imports of documents pass none: they
        are checked as the records officer's transcription instead)."""
        return self._record(facts, now=now, acting=acting, signer=signer or self.signer)

    def init(self, facts: Sequence[Fact], *, admin: str, signer: Signer,
             now: datetime | None = None) -> list[Recorded]:
        """The genesis: a new log's first events (the body and its administrator, whose
        registration carries ``signer``'s key), signed by that administrator. A log accepts
        no other first write."""
        return self._record(facts, now=now, acting=admin, signer=signer, genesis=True)

    def _record(
        self,
        facts: Iterable[Fact],
        *,
        now: datetime | None,
        acting: str | None,
        signer: Signer | None,
        genesis: bool = False,
    ) -> list[Recorded]:
        self._refresh()
        if signer is None:
            raise permissions.NotPermitted("as", "every write is signed: no signing key given")
        head = self.chain.head()[0]  # one indexed row; a census counts every row
        empty = head == 0
        if genesis and not empty:
            raise DomainError("store", f"{self.location.describe()} already holds a ledger")
        if empty and not genesis:
            raise StoreError(
                f"store: no ledger at {self.location.describe()}: create one with `ledger init`"
            )
        if acting is not None and signer.actor != acting:
            raise permissions.NotPermitted("as", f"{acting} signs with its own key, not "
                                                 f"{signer.actor}'s")
        batch = _Batch(self, now or datetime.now(UTC), acting, genesis=genesis, head=head)
        facts = list(facts)
        batch.prefetch(facts, actors={signer.actor, acting or signer.actor})
        events = [batch.add(fact) for fact in facts]
        if not events:
            return []
        permissions.check_signer(batch, signer, genesis=genesis)
        if self.absent:  # accepted: now the store may be made
            self._replace(open_recorder(self.location, "create"))
        try:
            # the event store directly: Application.save() would only add a runtime Protocol
            # isinstance check per event (no snapshots or policies here)
            recordings = self.app.events.put(
                events, signing=_Signing(signer, batch.now.isoformat()), genesis=genesis
            )
        except IntegrityError as exc:
            raise ConflictError(
                "an entity you are changing was changed since you read it; re-read and retry"
            ) from exc
        except PersistenceError as exc:
            raise StoreError(f"store: {exc}".splitlines()[0]) from exc
        except GenesisRefused as exc:
            raise DomainError("store", f"{self.location.describe()} already holds a ledger") \
                from exc
        positions = self.positions([r.notification.id for r in recordings])
        return [Recorded(p, e) for p, e in zip(positions, events, strict=True)]

    def record_one(self, type_: str, key: str, **fields: Any) -> Recorded:
        return self.record([Fact(type=type_, key=key, fields=fields)])[0]

    # ------------------------------------------------------------------ reading

    def history(self, kind: str, key: str) -> list[Event]:
        """One entity's events as the reader is shown them (its disclosures are its own)."""
        self._refresh()
        events = self._load(aggregate_id(aggregate_kind(kind).kind, key))
        policy = for_entity(self.reader, events)
        return [policy.view(event) for event in events]

    def get(self, kind: str, key: str) -> Aggregate | None:
        cls = aggregate_kind(kind)
        return fold(cls, self.history(cls.kind, key))

    def _load(self, originator_id: UUID) -> list[Event]:
        return list(self.app.events.get(originator_id))  # type: ignore[arg-type]

    def _load_many(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[Event]]:
        """What ``_load`` reads, for many entities in one query (those with no events are
        left out): an append's reads of the entities it touches and names."""
        return {oid: [decode_event(*row) for row in rows]
                for oid, rows in self.chain.histories(originator_ids).items()}

    def positions(self, notification_ids: Sequence[int]) -> list[int]:
        return self.chain.positions(notification_ids)

    def log(self, after: int = 0, until: int | None = None, *,
            policy: ReadPolicy | None = None) -> Iterator[tuple[int, Event]]:
        """Every event in chain order, as (position, event), read page by page, as the
        reader is shown it under ``policy`` (by default, the log's own up to ``until``)."""
        if policy is None:
            policy = self.policy(until)
        for linked in self.chain.linked(after, until):
            if linked.state is not None and linked.originator_id and linked.topic:
                event = decode_event(
                    linked.originator_id,
                    linked.originator_version or 0,
                    linked.topic,
                    linked.state,
                )
                yield linked.link.position, policy.view(event)

    def policy(self, until: int | None = None, after: int = 0,
               known: Sequence[int] = ()) -> ReadPolicy:
        """The read policy for this ledger's reader, from the disclosures linked in
        ``after``..``until`` and those at the ``known`` positions (a runner's, kept from an
        earlier catch-up). Each disclosing entity's history is read whole, so a corrected
        disclosure counts as corrected, and a correction of one is a source too."""
        head = self.chain.head()[0] if until is None else until
        found = self.chain.events_of((*DISCLOSURE_TOPICS, "EventRetracted"), head, after)
        at = dict(self.chain.originators_at([p for p in known if p <= head]))
        at.update((int(r[0]), as_uuid(r[1])) for r in found if r[2] in DISCLOSURE_TOPICS)
        disclosing = set(at.values())
        at.update((int(r[0]), as_uuid(r[1])) for r in found if as_uuid(r[1]) in disclosing)
        if not at:
            return ReadPolicy(self.reader)
        histories = [self._load(oid) for oid in sorted(disclosing)]
        return ReadPolicy.of(self.reader, histories, sorted(at))


class _Signing:
    """Signs each new link, once the recorder knows the log id (inside its transaction)."""

    def __init__(self, signer: Signer, signed_at: str) -> None:
        self.signer, self.signed_at = signer, signed_at

    def __call__(self, log_id: bytes | None) -> Sign:
        signer, signed_at = self.signer, self.signed_at

        def sign(originator: bytes, version: int, topic: str, digest: bytes) -> Signature:
            message = signed_message(log_id, originator, version, topic, digest, signer.actor,
                                     signed_at)
            return signer.actor, signer.key_id, signer.sign(message), signed_at

        return sign


class _Batch:
    """One atomic append: entity histories seen so far, including this batch's own events."""

    def __init__(
        self, ledger: Ledger, now: datetime, acting: str | None = None, *, genesis: bool = False,
        head: int,
    ) -> None:
        self.ledger = ledger
        self.now = now
        self.acting = acting
        self.genesis = genesis
        self.head = head
        """The log's last position when the batch began: its events take the ones after."""
        self.events: list[Event] = []
        self.histories: dict[UUID, list[Event]] = {}
        self.states: dict[UUID, Aggregate | None] = {}
        """Each entity's state, folded once and then evolved event by event as facts join."""
        self.created: dict[str, set[UUID]] = {}
        """The entities each creating event type made in the log, read once per batch."""
        self._resolved: dict[tuple[str, str | None], tuple[type[Event], type[Aggregate]]] = {}

    def before(self, cls: type[A], originator_id: UUID) -> A | None:
        """An entity's state before this batch."""
        return fold(cls, [e for e in self.history(originator_id) if e not in self.events])

    def history(self, originator_id: UUID) -> list[Event]:
        if originator_id not in self.histories:
            self.histories[originator_id] = self.ledger._load(originator_id)
        return self.histories[originator_id]

    def state(self, cls: type[A], originator_id: UUID) -> A | None:
        if originator_id not in self.states:
            history = self.history(originator_id)
            only = history[0] if len(history) == 1 else None
            self.states[originator_id] = (  # an entity made in this batch: no fold needed
                cls.create(only) if only is not None and only.creates and only.corrects is None
                else fold(cls, history)
            )
        return self.states[originator_id]  # type: ignore[return-value]

    def entities(self, cls: type[A]) -> list[A]:
        """Every entity of a kind, as it stands with this batch's events: what permissions ask
        of transfers and office terms (their ids found once per batch by topic)."""
        topic = cls.created_by.__name__
        if topic not in self.created:
            chain = self.ledger.chain
            rows = chain.events_of([topic], self.head)
            self.created[topic] = {as_uuid(row[1]) for row in rows}
        ids = self.created[topic] | {
            e.originator_id for e in self.events if isinstance(e, cls.created_by)
        }
        found = (self.state(cls, oid) for oid in sorted(ids))
        return [state for state in found if state is not None]

    def _append(self, cls: type[Aggregate], event: Event) -> None:
        oid = event.originator_id
        history = self.history(oid)
        if event.corrects is not None:  # a correction rewrites how history reads: fold again
            history.append(event)
            self.states[oid] = fold(cls, history)
        elif event.creates:  # its state is made from its history if asked for: most are not
            history.append(event)
            self.states.pop(oid, None)
        else:
            current = self.state(cls, oid)
            history.append(event)
            if current is not None:
                self.states[oid] = current.evolve(event)

    def prefetch(self, facts: Sequence[Fact], actors: Iterable[str] = ()) -> None:
        """Reads, in one query, the histories of the entities the batch's facts touch, of
        those they name (the references they must find) and of the ``actors`` (who signs and
        who acts); every other one starts with an empty history, not a read each (a bulk
        import creates most of what it touches)."""
        ids = {aggregate_id("actor", actor) for actor in actors}
        for fact in facts:
            with contextlib.suppress(DomainError):  # add() reports it, in order
                cls, aggregate = self.resolve(fact)
                ids.add(aggregate_id(aggregate.kind, fact.key))
                for field, kind in _references_of(cls):
                    ref = fact.fields.get(field)
                    if isinstance(ref, str):  # as the event will hold it (a Key is stripped)
                        ids.add(aggregate_id(kind, ref.strip()))
        unread = ids - self.histories.keys()
        loaded = self.ledger._load_many(unread)
        for originator_id in unread:
            self.histories[originator_id] = loaded.get(originator_id, [])

    def resolve(self, fact: Fact) -> tuple[type[Event], type[Aggregate]]:
        """The fact's event type and kind of entity, looked up once a batch for each pair."""
        key = (fact.type, fact.kind)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = (event_type(fact.type), self._aggregate(fact))
        return found

    @staticmethod
    def _aggregate(fact: Fact) -> type[Aggregate]:
        cls = event_type(fact.type)
        aggregate = aggregate_of(cls)
        if aggregate is not None:
            return aggregate
        if fact.kind is None:
            raise DomainError("kind", f"say which kind of entity the {cls.__name__} is about")
        return aggregate_kind(fact.kind)

    def add(self, fact: Fact) -> Event:
        cls, aggregate = self.resolve(fact)
        originator_id = aggregate_id(aggregate.kind, fact.key)
        history = self.history(originator_id)
        fields = dict(fact.fields)
        if self.acting is not None:
            fields = permissions.filled(self, self.acting, fact.type, fields)
        if cls.creates:
            fields["key"] = fact.key
        try:
            event = cls.model_validate(
                {
                    **fields,
                    "originator_id": originator_id,
                    "originator_version": history[-1].originator_version + 1 if history else 1,
                    "recorded_at": self.now,
                }
            )
        except ValidationError as exc:
            raise domain_error_from(exc) from None
        state = None if cls.creates and not history else self.state(aggregate, originator_id)
        if cls.creates:
            if history and event.corrects is None:
                raise DomainError("key", f"{aggregate.kind} '{fact.key}' already exists")
        elif not history:
            raise DomainError("key", f"no {aggregate.kind} '{fact.key}'")
        elif cls not in ANY_KIND and cls not in aggregate.changed_by:
            raise DomainError("type", f"{a(cls.__name__)} does not apply to {a(aggregate.kind)}")
        if self.acting is not None:
            permissions.check(self, self.acting, event, genesis=self.genesis)
        check_correction(history, event)
        world.check(self, event, aggregate, _references_of(type(event)))
        check_disclosure(history, event)
        if isinstance(event, Disclosure):
            self._check_position(event.position, event.event)
        if state is not None and event.corrects is None:
            state.check(event)
        self._check_references(event, aggregate, fact.key)
        self._append(aggregate, event)
        self.events.append(event)
        return event

    def _check_position(self, position: int, target: UUID) -> None:
        """A redaction or release names its event by id and by position: both must agree."""
        found = next(iter(self.ledger.chain.linked(position - 1, position)), None)
        if found is None or found.originator_id is None or event_id(
            found.originator_id, found.originator_version or 0
        ) != target:
            raise DomainError("position", f"the event at position {position} is not {target}")

    def _check_references(self, event: Event, aggregate: type[Aggregate], key: str) -> None:
        for field, kind in _references_of(type(event)):
            ref = getattr(event, field)
            if ref is None or (kind == aggregate.kind and ref == key and event.creates):
                continue
            if self.state(aggregate_kind(kind), aggregate_id(kind, ref)) is None:
                raise DomainError(field, f"no {kind} '{ref}' in the ledger")
