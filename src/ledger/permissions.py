"""Who may record what. Checked in the service layer for every write made on someone's behalf.

An actor acts in one of its roles and for the body it is registered with, and signs with a
key it has registered. A log begins with its genesis (``ledger init``): a body and its first
administrator, who registers itself and its key; no other first write is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .domain import Event, Role
from .domain.actors import Actor
from .integrity.signatures import public_key_text

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


def check_signer(batch: _Batch, signer: Signer, *, genesis: bool = False) -> None:
    """The batch is signed with a key its signer has registered (at the genesis, in the batch
    itself; else before it, since a key signs only after the event that registers it)."""
    from .domain import aggregate_id

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


def allowed_roles(event_type: str) -> frozenset[Role]:
    return ROLES_FOR.get(event_type, RECORDING)


def check(batch: _Batch, acting: str, event: Event, *, genesis: bool = False) -> None:
    """Raises NotPermitted unless ``acting`` may record ``event`` as it is enveloped."""
    from .domain import aggregate_id

    actor = batch.state(Actor, aggregate_id("actor", acting))
    if actor is None:
        registers_itself = (
            event.type == "ActorRegistered"
            and getattr(event, "key", None) == acting
            and Role.ADMINISTRATOR in getattr(event, "roles", ())
        )
        if genesis and (registers_itself or event.type == "BodyEstablished"):
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
    roles = allowed_roles(event.type)
    if event.role not in roles:
        who = ", ".join(sorted(r.value for r in roles))
        raise NotPermitted("role", f"a {event.role} may not record {event.type} (only: {who})")
    signatory = getattr(event, "signatory", None)
    if signatory is not None and signatory.value != event.role.value:
        raise NotPermitted("signatory", f"a {event.role} cannot sign off as {signatory}")
