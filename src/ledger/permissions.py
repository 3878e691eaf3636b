"""Who may record what. Checked in the service layer for every write made on someone's behalf.

An actor acts in one of its roles and for the body it is registered with, and signs with a
key it has registered. A log begins with its genesis (``ledger init``): a body and its first
administrator, who registers itself and its key; no other first write is accepted. The README
section "Who may do what" states the same rules for readers; keep the two alike.

Who may record an event type, for which body (``ROLES_FOR``, ``CROSS_BODY``):

    event types                                  roles                  body
    ActorRegistered ActorRoleGranted
      ActorRoleRevoked ActorKeyRotated
      ActorKeyRevoked ActorDeactivated
      BodyEstablished BodyAbolished              administrator          owner
    DecisionSignedOff                            chief_executive,       owner
                                                 chief_finance_officer,
                                                 commissioner (each signs
                                                 only as its own role)
    DecisionPublished                            commissioner,          owner
                                                 chief_executive
    EventRedacted RedactionReleased              commissioner,          owner (of the
                                                 chief_executive        entity whose event
                                                                        is withheld)
    PanelReportReceived PreceptReviewed
      PreceptVetoed                              panel_member           owner, or the Panel
                                                                        the event names
    InspectionReported InspectionGraded
      AreaForImprovementRaised                   inspector              owner
    ImprovementActionPlanned
      ImprovementActionCompleted                 recording roles        owner, or the
                                                                        inspected body
    SourceDocumentRegistered TotalStated         nobody: `ledger import` only (the records
                                                 officer's transcription, no acting actor)
    every other type                             recording roles        owner

Recording roles: officer, chief_executive, chief_finance_officer, treasurer, commissioner,
deputy_commissioner. "owner" is the owning body of the entity the event changes: the body of
the event that created it, moved on by every ResponsibilityTransferred from that body effective
on or before the event's effective date. An event that creates an entity is recorded for the
actor's own body; if it puts the entity in a plan (``plan``), the plan must be that body's; an
OfficeTermStarted is recorded by its ``office_body`` and a ResponsibilityTransferred by its
``from_body`` (or whoever took over their responsibility).

Who may correct what (``CORRECTED_BY``): a correction (restatement or retraction) is judged as
the corrected event would be, for the entity's owner on the day the correction is recorded:

    corrected event                        who may correct it
    DecisionSignedOff, InterestDeclared    only the actor who recorded it, if it may still
                                           record that type for the owning body
    SourceDocumentRegistered, TotalStated  nobody through the write commands
    any other                              any actor who may record the corrected event's
                                           type for the entity's owning body

Besides: a commissioner signs off only while it holds an office term of the body (matched by
its registered name); a sign-off's ``signed_by`` is the signer's registered name; no actor
grants itself a role; an administrator never holds a signatory role; a deactivated actor
records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from .dates import local_day
from .domain import (
    DomainError,
    Event,
    Role,
    aggregate_id,
    aggregate_kind,
    aggregate_of,
    fold,
)
from .domain.actors import Actor
from .domain.base import Aggregate
from .domain.bodies import OfficeTerm, Transfer, responsible_body
from .domain.wording import a
from .integrity.signatures import KEY_TOPICS, KeyRegistry, key_changes, public_key_text

if TYPE_CHECKING:
    from .adapters.keys import Signer
    from .services import _Batch

RECORDING = frozenset(
    {
        Role.OFFICER,
        Role.CHIEF_EXECUTIVE,
        Role.CHIEF_FINANCE_OFFICER,
        Role.TREASURER,
        Role.COMMISSIONER,
        Role.DEPUTY_COMMISSIONER,
    }
)
SIGNATORIES = frozenset({Role.CHIEF_EXECUTIVE, Role.CHIEF_FINANCE_OFFICER, Role.COMMISSIONER})

ROLES_FOR: dict[str, frozenset[Role]] = {
    **{t: frozenset({Role.ADMINISTRATOR}) for t in (
        "ActorRegistered", "ActorRoleGranted", "ActorRoleRevoked", "ActorKeyRotated",
        "ActorKeyRevoked", "ActorDeactivated", "BodyEstablished", "BodyAbolished",
    )},
    "DecisionSignedOff": SIGNATORIES,
    "DecisionPublished": frozenset({Role.COMMISSIONER, Role.CHIEF_EXECUTIVE}),
    **{t: frozenset({Role.COMMISSIONER, Role.CHIEF_EXECUTIVE}) for t in (
        "EventRedacted", "RedactionReleased",
    )},
    **{t: frozenset({Role.PANEL_MEMBER}) for t in (
        "PanelReportReceived", "PreceptReviewed", "PreceptVetoed",
    )},
    **{t: frozenset({Role.INSPECTOR}) for t in (
        "InspectionReported", "InspectionGraded", "AreaForImprovementRaised",
    )},
    **{t: frozenset() for t in ("SourceDocumentRegistered", "TotalStated")},
}
"""Event types limited to particular roles; every other type is for the recording roles."""

IMPORT_ONLY = frozenset({"SourceDocumentRegistered", "TotalStated"})
"""Transcribed from a document by ``ledger import`` only: the records officer registers the
text it actually read (its sha256), never an actor through a write command."""

CROSS_BODY: Mapping[str, str] = {
    "PanelReportReceived": "panel",
    "PreceptReviewed": "panel",
    "PreceptVetoed": "panel",
    "ImprovementActionPlanned": "inspected_body",
    "ImprovementActionCompleted": "inspected_body",
}
"""Event types that another body than the owner may record: the body named in this field of
the event (the Panel) or of the entity (the inspected body), or its successor."""

CORRECTED_BY: Mapping[str, str] = {
    "DecisionSignedOff": "recorder",
    "InterestDeclared": "recorder",
    "SourceDocumentRegistered": "nobody",
    "TotalStated": "nobody",
}
"""Who may correct an event of these types ("recorder": only the actor who recorded it;
"nobody": no write command); any other type: whoever may record that type for the owner."""

NAMED_BODY: Mapping[str, str] = {
    "OfficeTermStarted": "office_body",
    "ResponsibilityTransferred": "from_body",
}
"""Events recorded only by the body a field names (or its successor): a body records its own
office terms, and hands over only its own responsibility."""


class NotPermitted(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def check_signer(batch: _Batch, signer: Signer, *, genesis: bool = False) -> None:
    """The batch is signed with a key its signer has registered (at the genesis, in the batch
    itself; else before it, since a key signs only after the event that registers it). A batch
    with no acting actor is a transcription of documents, which only a records officer signs."""
    oid = aggregate_id("actor", signer.actor)
    actor = batch.state(Actor, oid) if genesis else batch.before(Actor, oid)
    if actor is None:
        raise NotPermitted("as", f"no actor '{signer.actor}' in the ledger")
    if not actor.active:
        raise NotPermitted("as", f"{signer.actor} was deactivated")
    if public_key_text(signer.public) not in actor.public_keys:
        raise NotPermitted(
            "key", f"the private key used is not a key {signer.actor} has registered"
        )
    _as_verify_will(batch, signer, oid)
    if batch.acting is None and not genesis and Role.RECORDS_OFFICER not in actor.roles:
        raise NotPermitted(
            "as", f"{signer.actor} is not a records officer: only the records officer's "
                  "import records without an acting actor")


def _as_verify_will(batch: _Batch, signer: Signer, signer_id: Any) -> None:
    """The check verify will make of each signature of the write, made before it is written,
    by the same rule (``KeyRegistry``) from the signer's key events in the log and in the
    write itself, at the positions the write will take: what the ledger accepts, verify
    accepts. (A key signs the event that ends it and nothing after, so a write that rotates
    or revokes its own signing key, or deactivates its signer, ends with that event.)"""
    chain, head = batch.ledger.chain, batch.head
    ahead = [(head + i, e.originator_id, e.type, e.model_dump(mode="json"))
             for i, e in enumerate(batch.events, start=1)
             if e.originator_id == signer_id and e.type in KEY_TOPICS]
    stored = [(position, signer_id, topic, state)  # one spelling of the id for both
              for position, _, topic, state in chain.events_of(KEY_TOPICS, head,
                                                               entity=signer_id)]
    registry = KeyRegistry(key_changes([*stored, *ahead]))
    for i, event in enumerate(batch.events, start=1):
        good, why = registry.public_key(head + i, signer.actor, signer.key_id, batch.now)
        if good == signer.public:
            refused = registry.may_sign_for(head + i, signer.actor, event.actor)
            if refused is None:
                continue
            raise NotPermitted("as", f"verify would refuse this signature: {refused}")
        if i > 1:
            raise NotPermitted("key", f"the key {signer.actor} signs this write with ends "
                                      f"before its {event.type} ({why}): record the event "
                                      "that ends it last, or on its own")
        raise NotPermitted("key", f"verify would refuse this signature: {why}")


def allowed_roles(event_type: str) -> frozenset[Role]:
    return ROLES_FOR.get(event_type, RECORDING)


def filled(batch: _Batch, acting: str, type_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields the ledger fills in from the acting actor: a sign-off is signed by its
    signer, named as registered; a different name given is refused."""
    if type_name != "DecisionSignedOff":
        return fields
    actor = batch.state(Actor, aggregate_id("actor", acting))
    if actor is None:
        return fields  # ``check`` refuses it
    given = fields.get("signed_by")
    if isinstance(given, str):
        given = given.strip()
    if given not in (None, "") and given != actor.name:
        raise NotPermitted(
            "signed_by", f"{acting} signs as its registered name '{actor.name}', not {given!r}"
        )
    return {**fields, "signed_by": actor.name}


def check(batch: _Batch, acting: str, event: Event, *, genesis: bool = False) -> None:
    """Raises NotPermitted unless ``acting`` may record ``event`` as it is enveloped."""
    actor = batch.state(Actor, aggregate_id("actor", acting))
    if actor is None:
        registers_itself = (
            event.type == "ActorRegistered"
            and getattr(event, "key", None) == acting
            and Role.ADMINISTRATOR in getattr(event, "roles", ())
        )
        if genesis and (registers_itself or event.type == "BodyEstablished"):
            if registers_itself:
                _separate_duties(set(getattr(event, "roles", ())))
            return  # the genesis: a new log's body and its administrator
        raise NotPermitted("as", f"no actor '{acting}' in the ledger")
    if not actor.active:
        raise NotPermitted("as", f"{acting} was deactivated")
    if event.actor != acting:
        raise NotPermitted("actor", f"{acting} cannot record on behalf of {event.actor}")
    if event.role not in actor.roles:
        raise NotPermitted("role", f"{acting} does not hold the role {event.role}")
    if event.body != actor.acts_for:
        raise NotPermitted("body", f"{acting} acts for {actor.acts_for}, not {event.body}")
    history = batch.history(event.originator_id)  # this entity, before the event
    corrected = _corrected(history, event)
    governing = corrected or event  # a correction is judged as the event it corrects
    if governing.type in IMPORT_ONLY:
        raise NotPermitted("type", f"{a(governing.type)} is recorded only by `ledger import` "
                                   "(the records officer's transcription of the document)")
    roles = allowed_roles(governing.type)
    if event.role not in roles:
        who = ", ".join(sorted(r.value for r in roles))
        doing = f"correct {a(governing.type)}" if corrected else f"record {event.type}"
        raise NotPermitted("role", f"{a(event.role)} may not {doing} (only: {who})")
    if corrected is not None and CORRECTED_BY.get(corrected.type) == "recorder" \
            and corrected.actor != acting:
        raise NotPermitted("corrects", f"{a(corrected.type)} is corrected only by "
                                       f"{corrected.actor}, who recorded it")
    if history:
        _check_owner(batch, event, governing, history)
    _check_named_bodies(batch, event)
    signatory = getattr(event, "signatory", None)
    if signatory is not None and signatory.value != event.role.value:
        raise NotPermitted("signatory", f"{a(event.role)} cannot sign off as {signatory}")
    if signatory == Role.COMMISSIONER.value:  # decisions.Signatory, a str enum
        _check_in_office(batch, actor, event)
    if (history[0] if history else event).type == "ActorRegistered":
        _check_roles_given(batch, acting, event, history)


def _corrected(history: Sequence[Event], event: Event) -> Event | None:
    if event.corrects is None:
        return None
    return next((e for e in history if e.id == event.corrects), None)


def _kind_of(creator: Event) -> type[Aggregate]:
    """The kind of entity an event that created one made."""
    found = aggregate_of(type(creator))
    if found is None:
        raise TypeError(f"{a(creator.type)} creates no entity")
    return found


def _transfers(batch: _Batch, event: Event) -> list[Transfer]:
    """The transfers in effect, but not the one being written (a restated transfer does not
    move what it transfers before it is recorded)."""
    return [t for t in batch.entities(Transfer) if t.id != event.originator_id]


def owning_body(batch: _Batch, history: Sequence[Event], on: date,
                transfers: Sequence[Transfer] | None = None) -> str:
    """The body an existing entity belongs to on ``on``: its creator's, moved on by transfers."""
    cls = _kind_of(history[0])
    state: Aggregate | None = batch.state(cls, history[0].originator_id)
    created_for = state.body if state is not None else history[0].body
    if transfers is None:
        transfers = batch.entities(Transfer)
    return responsible_body(created_for, on, transfers)


def _check_owner(batch: _Batch, event: Event, governing: Event,
                 history: Sequence[Event]) -> None:
    """An actor writes only to its own body's entities (or as the party CROSS_BODY names)."""
    on = local_day(batch.now) if event.corrects is not None else event.effective_date
    transfers = _transfers(batch, event)
    owner = owning_body(batch, history, on, transfers)
    if event.body == owner:
        return
    field = CROSS_BODY.get(governing.type)
    if field is not None:
        holder: Any = governing if field in type(governing).model_fields else \
            batch.state(aggregate_kind("inspection"), history[0].originator_id)
        party = getattr(holder, field, None)
        if party is not None and responsible_body(party, on, transfers) == event.body:
            return
    kind = _kind_of(history[0]).kind
    key = getattr(history[0], "key", "?")
    raise NotPermitted("body", f"{kind} '{key}' belongs to {owner} on {on}, not to "
                               f"{event.body}")


def _check_named_bodies(batch: _Batch, event: Event) -> None:
    """A new entity in a plan goes only into a plan of the actor's body; an office term or a
    transfer is recorded only by the body it concerns."""
    on = event.effective_date
    field = NAMED_BODY.get(event.type)
    if field is not None:
        named = getattr(event, field)
        if responsible_body(named, on, _transfers(batch, event)) != event.body:
            raise NotPermitted(field, f"{event.body} cannot record {a(event.type)} for {named}")
    plan = getattr(event, "plan", None) if event.creates else None
    if plan is not None:
        history = batch.history(aggregate_id("plan", plan))
        if history:  # an absent plan is reported as such later
            owner = owning_body(batch, history, on)
            if owner != event.body:
                raise NotPermitted("plan", f"plan '{plan}' belongs to {owner} on {on}, not to "
                                           f"{event.body}")


def _same_name(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip().casefold() == re.sub(r"\s+", " ", b).strip().casefold()


def _check_in_office(batch: _Batch, actor: Actor, event: Event) -> None:
    """A commissioner signs off only while it holds an office term of the body. One who held
    the office at another time is refused for the date (DomainError, ``effective_at``); one
    who never held it, as not permitted."""
    on = event.effective_date
    held = [t for t in batch.entities(OfficeTerm)
            if t.office_body == event.body and _same_name(t.holder, actor.name)]
    if any(t.current_on(on) for t in held):
        return
    if held:
        terms = ", ".join(f"{t.effective_from} to {t.ended_on or 'now'}" for t in held)
        raise DomainError("effective_at", f"{actor.key} ({actor.name}) holds no office term of "
                                          f"{event.body} on {on} (held: {terms})")
    raise NotPermitted("signatory", f"{actor.key} ({actor.name}) holds no office term of "
                                    f"{event.body} on {on}, so cannot sign off as "
                                    "commissioner")


def _separate_duties(roles: set[Role]) -> None:
    if Role.ADMINISTRATOR in roles and roles & SIGNATORIES:
        held = ", ".join(sorted(r.value for r in roles & SIGNATORIES))
        raise NotPermitted("roles", f"an administrator cannot hold a signatory role ({held})")


def _check_roles_given(batch: _Batch, acting: str, event: Event,
                       history: Sequence[Event]) -> None:
    """No actor grants itself a role, and no grant (or correction) makes an administrator a
    signatory or a signatory an administrator."""
    before = batch.state(Actor, event.originator_id) if history else None
    after = fold(Actor, [*history, event])
    if after is None:
        return
    gained = set(after.roles) - set(before.roles if before is not None else ())
    if not gained:
        return
    if after.key == acting:
        raise NotPermitted("as", f"{acting} cannot grant a role to itself")
    _separate_duties(set(after.roles))
