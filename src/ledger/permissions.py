"""Who may record what. Checked in the service layer for every write made on someone's behalf.

An actor acts in one of its roles and for the body it is registered with. Until a ledger has
any actor, anyone may establish bodies and register the first actor, an administrator who
registers itself (the bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .domain import Event, Role
from .domain.actors import Actor

if TYPE_CHECKING:
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
        "ActorRegistered", "ActorRoleGranted", "ActorRoleRevoked", "BodyEstablished",
        "BodyAbolished",
    )},
    "DecisionSignedOff": SIGNATORIES,
    "DecisionPublished": frozenset({Role.COMMISSIONER, Role.CHIEF_EXECUTIVE}),
    **{t: frozenset({Role.PANEL_MEMBER}) for t in (
        "PanelReportReceived", "PreceptReviewed", "PreceptVetoed",
    )},
    **{t: frozenset({Role.INSPECTOR}) for t in (
        "InspectionReported", "InspectionGraded", "AreaForImprovementRaised",
    )},
}
"""Event types limited to particular roles; every other type is for the recording roles."""


class NotPermitted(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def allowed_roles(event_type: str) -> frozenset[Role]:
    return ROLES_FOR.get(event_type, RECORDING)


def check(batch: _Batch, acting: str, event: Event, any_actor: Callable[[], bool]) -> None:
    """Raises NotPermitted unless ``acting`` may record ``event`` as it is enveloped."""
    from .domain import aggregate_id

    actor = batch.state(Actor, aggregate_id("actor", acting))
    if actor is None:
        registers_itself = (
            event.type == "ActorRegistered"
            and getattr(event, "key", None) == acting
            and Role.ADMINISTRATOR in getattr(event, "roles", ())
        )
        bootstrap = (registers_itself or event.type == "BodyEstablished") and not any_actor()
        if bootstrap:
            return
        raise NotPermitted("as", f"no actor '{acting}' in the ledger")
    if event.actor != acting:
        raise NotPermitted("actor", f"{acting} cannot record on behalf of {event.actor}")
    if event.role not in actor.roles:
        raise NotPermitted("role", f"{acting} does not hold the role {event.role}")
    if event.body != actor.acts_for:
        raise NotPermitted("body", f"{acting} acts for {actor.acts_for}, not {event.body}")
    roles = allowed_roles(event.type)
    if event.role not in roles:
        who = ", ".join(sorted(r.value for r in roles))
        raise NotPermitted("role", f"a {event.role} may not record {event.type} (only: {who})")
    signatory = getattr(event, "signatory", None)
    if signatory is not None and signatory.value != event.role.value:
        raise NotPermitted("signatory", f"a {event.role} cannot sign off as {signatory}")
