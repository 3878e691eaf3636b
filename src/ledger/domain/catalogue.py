"""Every event type and entity kind the ledger knows, by the name stored with each event.

The catalogue is lazy: ``MODULES`` says which module of ``ledger.domain`` defines which names,
so a command imports only the modules it touches (one officer's write needs three of them, not
nine; building each module's pydantic classes is most of a CLI start-up). Every lookup goes
through the functions here, and a name found in no module loaded yet loads the module that
defines it, so a stored event of any type always reads back. ``EVENT_TYPES``, ``AGGREGATES``
and ``AGGREGATE_OF`` are the whole catalogue: reaching for one of them loads every module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import Aggregate, DomainError, Event, EventRetracted
from .disclosure import DISCLOSURE_EVENTS

MODULES: dict[str, tuple[str, ...]] = {
    "actors": ("actor", "ActorRegistered", "ActorRoleGranted", "ActorRoleRevoked",
               "ActorKeyRotated", "ActorKeyRevoked", "ActorDeactivated"),
    "bodies": ("body", "office-term", "transfer", "BodyEstablished", "BodyAbolished",
               "OfficeTermStarted", "OfficeTermEnded", "ResponsibilityTransferred"),
    "plans": ("plan", "deliverable", "target", "PlanDrafted", "PlanSentToPanel",
              "PanelReportReceived", "PlanIssued", "PlanVaried", "PlanExtended",
              "PlanSuperseded", "PlanItemAdded", "DeliverableAdded", "DeliverableLeadAssigned",
              "DeliverableDeadlineChanged", "DeliverableStatusChanged", "DeliverableCarriedOver",
              "DeliverableLapsed", "TargetSet", "BaselineRecorded", "TargetRevised",
              "OutcomeMeasured"),
    "grants": ("grant", "GrantAwarded", "GrantVaried", "GrantPaid", "GrantWithdrawn"),
    "decisions": ("decision", "DecisionRecorded", "DecisionSignedOff", "InterestDeclared",
                  "DecisionPublished"),
    "finance": ("budget", "BudgetDrafted", "BudgetLineSet", "SavingsRequirementSet",
                "PreceptProposed", "PreceptReviewed", "PreceptVetoed", "PreceptIssued"),
    "inspections": ("inspection", "InspectionReported", "InspectionGraded",
                    "AreaForImprovementRaised", "ImprovementActionPlanned",
                    "ImprovementActionCompleted"),
    "documents": ("document", "SourceDocumentRegistered", "TotalStated"),
}
"""Each module of ``ledger.domain`` that defines entities: the kinds of its aggregates (in
lower case) and the types of their events (each aggregate's ``created_by`` and ``changed_by``).
A new module is one entry here; loading a module refuses one whose entry is not exactly what
it defines, and tests/test_catalogue.py checks every module against its entry."""

ANY_KIND: tuple[type[Event], ...] = (EventRetracted, *DISCLOSURE_EVENTS)
"""Events that apply to an entity of any kind (the writer names the kind); always loaded."""

TOPIC_RENAMES: dict[str, str] = {}
"""Old event type name -> the name it was renamed to. Events are stored under their class's
name and never rewritten, so a renamed class is entered here and still reads its old events
(a name renamed twice follows both entries). Add to it; never remove an entry."""

_AGGREGATES: dict[str, type[Aggregate]] = {}
_AGGREGATE_OF: dict[type[Event], type[Aggregate]] = {}
_EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in ANY_KIND}
_MODULE_OF: dict[str, str] = {name: module for module, names in MODULES.items() for name in names}
_LOADED: set[str] = set()

if TYPE_CHECKING:  # the whole catalogue, made by __getattr__ on first use
    AGGREGATES: dict[str, type[Aggregate]]
    AGGREGATE_OF: dict[type[Event], type[Aggregate]]
    EVENT_TYPES: dict[str, type[Event]]


def __getattr__(name: str) -> Any:
    whole = {"AGGREGATES": _AGGREGATES, "AGGREGATE_OF": _AGGREGATE_OF,
             "EVENT_TYPES": _EVENT_TYPES}.get(name)
    if whole is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_all()
    return whole


def load_all() -> None:
    """Every module of the catalogue: for what lists or walks all types and kinds."""
    for module in MODULES:
        _load(module)


def _load(module: str) -> None:
    """Imports one module of the catalogue and registers what its entry names."""
    if module in _LOADED:
        return
    found = importlib.import_module(f"{__package__}.{module}")
    names = set(MODULES[module])
    aggregates = [
        value for value in vars(found).values()
        if isinstance(value, type) and issubclass(value, Aggregate)
        and value.__module__ == found.__name__ and "kind" in vars(value)
    ]
    defined = {cls.kind for cls in aggregates} | {
        event.__name__ for cls in aggregates for event in (cls.created_by, *cls.changed_by)
    }
    if defined != names:
        raise TypeError(
            f"catalogue.MODULES[{module!r}] lists {sorted(names - defined)} that the module "
            f"does not define and leaves out {sorted(defined - names)}"
        )
    for cls in aggregates:
        _AGGREGATES[cls.kind] = cls
        for event in (cls.created_by, *cls.changed_by):
            _AGGREGATE_OF[event] = cls
            _EVENT_TYPES[event.__name__] = event
    _LOADED.add(module)


def _find(name: str) -> type[Event] | None:
    """The event type stored under ``name``, loading its module if need be."""
    found = _EVENT_TYPES.get(name)
    if found is None and name in _MODULE_OF:
        _load(_MODULE_OF[name])
        found = _EVENT_TYPES.get(name)
    return found


def known_event_type(name: str) -> type[Event] | None:
    """The catalogue's event type of this name, if there is one."""
    return _find(name)


def stored_event_type(topic: str) -> type[Event]:
    """The class that reads events stored under ``topic``, following renames."""
    found = _find(topic)
    if found is not None:
        return found
    name, seen = topic, {topic}
    while (found := _find(name)) is None:
        name = TOPIC_RENAMES.get(name, "")
        if not name or name in seen:
            raise DomainError(
                "topic",
                f"unknown event type '{topic}' in the store (written by a newer program?)",
            )
        seen.add(name)
    return found


def event_type(name: str) -> type[Event]:
    found = _find(name)
    if found is None:
        raise DomainError("type", f"unknown event type '{name}'")
    return found


def aggregate_kind(name: str) -> type[Aggregate]:
    found = _AGGREGATES.get(name)
    if found is None and name in _MODULE_OF:
        _load(_MODULE_OF[name])
        found = _AGGREGATES.get(name)
    if found is None:
        kinds = {n for n in _MODULE_OF if n[:1].islower()} | set(_AGGREGATES)
        known = ", ".join(sorted(kinds))
        raise DomainError("kind", f"unknown kind '{name}' (known: {known})")
    return found


def aggregate_of(cls: type[Event]) -> type[Aggregate] | None:
    """The kind of entity an event type belongs to; None for an event of any kind."""
    found = _AGGREGATE_OF.get(cls)
    if found is None and _find(cls.__name__) is not None:
        found = _AGGREGATE_OF.get(cls)
    return found
