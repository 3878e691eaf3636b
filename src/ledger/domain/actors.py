"""Ledger users: who may record what, for which body. Changes to them are ledger facts too."""

from __future__ import annotations

from typing import Self

from pydantic import field_validator

from .base import Aggregate, DomainError, Event, Key, Role, ShortText


class ActorRegistered(Event):
    creates = True
    key: Key
    name: ShortText
    acts_for: Key
    """The body the actor records for."""
    roles: tuple[Role, ...]

    @field_validator("roles")
    @classmethod
    def _some_role(cls, value: tuple[Role, ...]) -> tuple[Role, ...]:
        if not value:
            raise ValueError("an actor needs at least one role")
        return tuple(dict.fromkeys(value))


class ActorRoleGranted(Event):
    changes_fact = True
    granted: Role


class ActorRoleRevoked(Event):
    changes_fact = True
    revoked: Role


class Actor(Aggregate):
    kind = "actor"
    created_by = ActorRegistered
    changed_by = (ActorRoleGranted, ActorRoleRevoked)
    name: str
    acts_for: str
    roles: tuple[Role, ...]

    def check(self, event: Event) -> None:
        if isinstance(event, ActorRoleGranted) and event.granted in self.roles:
            raise DomainError("granted", f"{self.key} already has the role {event.granted}")
        if isinstance(event, ActorRoleRevoked):
            if event.revoked not in self.roles:
                raise DomainError("revoked", f"{self.key} does not have the role {event.revoked}")
            if len(self.roles) == 1:
                raise DomainError("revoked", "an actor keeps at least one role")

    def evolve(self, event: Event) -> Self:
        if isinstance(event, ActorRoleGranted):
            return self._next(event, roles=(*self.roles, event.granted))
        if isinstance(event, ActorRoleRevoked):
            return self._next(event, roles=tuple(r for r in self.roles if r != event.revoked))
        return super().evolve(event)
