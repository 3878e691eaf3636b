"""Ledger users: who may record what, for which body. Changes to them are ledger facts too."""

from typing import Annotated, Self

from pydantic import AfterValidator, field_validator

from ..integrity.signatures import parse_public_key
from .base import Aggregate, DomainError, Event, EventRetracted, Key, Role, ShortText
from .wording import a


def _public_key(value: str | None) -> str | None:
    if value is None:
        raise ValueError("an actor is registered with its public key (see `ledger key new`)")
    try:
        parse_public_key(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


PublicKey = Annotated[str, AfterValidator(_public_key)]
"""An Ed25519 public key, written ``ed25519:BASE64`` (32 bytes)."""


def _signing_facts(event: Event) -> tuple[object, bool]:
    """What verify reads of an actor event: its key, and whether it makes or unmakes a
    records officer (who may sign events naming other actors: transcriptions)."""
    named = (*getattr(event, "roles", ()), getattr(event, "granted", None),
             getattr(event, "revoked", None))
    return getattr(event, "public_key", None), Role.RECORDS_OFFICER in named


class _Stands:
    """The events that say whose keys are good and who is a records officer take effect by
    their position in the log, and verify never moves them: a correction may restate their
    other fields, but never their key or the records officer's role, and none of them is
    retracted (what it made good or ended would stay so for verify, not for the ledger)."""

    def check_corrected_by(self, correction: Event) -> None:
        key, transcriber = _signing_facts(self)  # type: ignore[arg-type]
        if isinstance(correction, EventRetracted):
            if key is None and not transcriber and not isinstance(self, _KeyEvent):
                return  # a role that verify does not read
            raise DomainError("corrects", f"{a(type(self).__name__)} of a key or of the "
                                          "records officer's role is never retracted: they "
                                          "change by the `actor` commands")
        if _signing_facts(correction) != (key, transcriber):
            field = "public_key" if getattr(correction, "public_key", None) != key else next(
                n for n in ("roles", "granted", "revoked") if hasattr(self, n))
            raise DomainError(field, "a correction keeps the key and the records officer's "
                                     "role of the event it corrects: they change by the "
                                     "`actor` commands")


class _KeyEvent(_Stands):
    """An event that changes whose keys are good."""


class ActorRegistered(_KeyEvent, Event):
    creates = True
    key: Key
    name: ShortText
    acts_for: Key
    """The body the actor records for."""
    roles: tuple[Role, ...]
    public_key: Annotated[str | None, AfterValidator(_public_key)] = None
    """The key the actor signs with. Required when registering; registrations stored before
    keys existed read as None."""

    @field_validator("roles")
    @classmethod
    def _some_role(cls, value: tuple[Role, ...]) -> tuple[Role, ...]:
        if not value:
            raise ValueError("an actor needs at least one role")
        return tuple(dict.fromkeys(value))


class ActorRoleGranted(_Stands, Event):
    changes_fact = True
    granted: Role


class ActorRoleRevoked(_Stands, Event):
    changes_fact = True
    revoked: Role


class ActorKeyRotated(_KeyEvent, Event):
    """The actor signs with a new key from ``effective_at``; its earlier keys sign nothing
    from then on, nor anything recorded after this event."""

    changes_fact = True
    public_key: PublicKey


class ActorKeyRevoked(_KeyEvent, Event):
    """One key signs nothing from ``effective_at`` (e.g. since it was lost or stolen), nor
    anything recorded after this event."""

    changes_fact = True
    public_key: PublicKey


class ActorDeactivated(_KeyEvent, Event):
    """The actor records and signs nothing from ``effective_at``; its history stays."""

    changes_fact = True


class Actor(Aggregate):
    kind = "actor"
    created_by = ActorRegistered
    changed_by = (
        ActorRoleGranted, ActorRoleRevoked, ActorKeyRotated, ActorKeyRevoked, ActorDeactivated
    )
    name: str
    acts_for: str
    roles: tuple[Role, ...]
    public_keys: tuple[str, ...] = ()
    """The keys it may sign with now."""
    ended_keys: tuple[str, ...] = ()
    """The keys it signed with before, ended by a rotation or revocation: none signs again."""
    active: bool = True

    @classmethod
    def create(cls, event: Event) -> Self:
        actor = super().create(event)
        key = getattr(event, "public_key", None)
        return actor.model_copy(update={"public_keys": (key,) if key else ()})

    def check(self, event: Event) -> None:
        if not self.active:
            raise DomainError("key", f"{self.key} was deactivated")
        if isinstance(event, ActorKeyRevoked) and event.public_key not in self.public_keys:
            raise DomainError("public_key", f"{self.key} does not sign with that key")
        if isinstance(event, ActorKeyRotated) and event.public_key in self.public_keys:
            raise DomainError("public_key", f"{self.key} already signs with that key")
        if isinstance(event, ActorKeyRotated) and event.public_key in self.ended_keys:
            # the registry would start it afresh, and what it signed before would fail
            raise DomainError("public_key", f"{self.key} signed with that key before and it "
                                            "ended; a key never signs again: make a new one "
                                            "with `ledger key new`")
        if isinstance(event, ActorRoleGranted) and event.granted in self.roles:
            raise DomainError("granted", f"{self.key} already has the role {event.granted}")
        if isinstance(event, ActorRoleRevoked):
            if event.revoked not in self.roles:
                raise DomainError("revoked", f"{self.key} does not have the role {event.revoked}")
            if len(self.roles) == 1:
                raise DomainError("revoked", "an actor keeps at least one role")

    def evolve(self, event: Event) -> Self:
        if isinstance(event, ActorKeyRotated):
            return self._next(event, public_keys=(event.public_key,),
                              ended_keys=(*self.ended_keys, *self.public_keys))
        if isinstance(event, ActorKeyRevoked):
            kept = tuple(k for k in self.public_keys if k != event.public_key)
            return self._next(event, public_keys=kept,
                              ended_keys=(*self.ended_keys, event.public_key))
        if isinstance(event, ActorDeactivated):
            return self._next(event, active=False)
        if isinstance(event, ActorRoleGranted):
            return self._next(event, roles=(*self.roles, event.granted))
        if isinstance(event, ActorRoleRevoked):
            return self._next(event, roles=tuple(r for r in self.roles if r != event.revoked))
        return super().evolve(event)
