"""Plans (business, Police and Crime, improvement plans), their deliverables and targets.

A plan goes draft -> sent to Panel -> Panel report -> issued -> varied -> superseded (PRSRA s.5).
Deliverables and targets are entities of their own: each has a long life of changes.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .base import Aggregate, DomainError, Event, Key, OptionalText, ShortText, Text


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SENT_TO_PANEL = "sent_to_panel"
    PANEL_REPORTED = "panel_reported"
    ISSUED = "issued"
    SUPERSEDED = "superseded"


class PlanItemKind(StrEnum):
    SECTION = "section"
    DESCRIPTOR = "descriptor"
    PRIORITY = "priority"
    PROMISE = "promise"
    OBJECTIVE = "objective"
    AMBITION = "ambition"


class PlanDrafted(Event):
    creates = True
    key: Key
    title: ShortText
    plan_type: Key
    period_from: date
    period_to: date | None = None

    @field_validator("period_to")
    @classmethod
    def _period_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("period_from")
        if value is not None and start is not None and value < start:
            raise ValueError("the period cannot end before it starts")
        return value


class PlanSentToPanel(Event):
    panel: Key


class PanelReportReceived(Event):
    panel: Key
    summary: Text


class PlanIssued(Event):
    pass


class PlanVaried(Event):
    changes_fact = True
    summary: Text


class PlanExtended(Event):
    """The plan's period is extended (e.g. KPA's plan, to cover the move to a Commissioner)."""

    changes_fact = True
    period_to: date


class PlanSuperseded(Event):
    changes_fact = True
    by_plan: Key


class PlanItemAdded(Event):
    """A section, priority, promise, objective or ambition of the plan."""

    item: Key
    item_kind: PlanItemKind
    parent: Key | None = None
    number: Annotated[str, Field(max_length=20)] = ""
    title: Text


class PlanItem(BaseModel):
    """A plain value, not an aggregate: it lives inside its plan."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    item: str
    item_kind: PlanItemKind
    parent: str | None
    number: str
    title: str


class Plan(Aggregate):
    kind = "plan"
    created_by = PlanDrafted
    changed_by = (
        PlanSentToPanel,
        PanelReportReceived,
        PlanIssued,
        PlanVaried,
        PlanExtended,
        PlanSuperseded,
        PlanItemAdded,
    )
    title: str
    plan_type: str
    period_from: date
    period_to: date | None
    status: PlanStatus = PlanStatus.DRAFT
    variations: int = 0
    superseded_by: str | None = None
    items: tuple[PlanItem, ...] = ()

    def check(self, event: Event) -> None:
        if self.status is PlanStatus.SUPERSEDED:
            raise DomainError("key", f"plan {self.key} was superseded by {self.superseded_by}")
        if isinstance(event, PlanIssued) and self.status is PlanStatus.ISSUED:
            raise DomainError("key", f"plan {self.key} is already issued; record a variation")
        if isinstance(event, PlanVaried) and self.status is not PlanStatus.ISSUED:
            raise DomainError(
                "key", f"plan {self.key} is {self.status}; only an issued plan is varied"
            )
        if isinstance(event, PlanExtended) and self.period_to and event.period_to <= self.period_to:
            raise DomainError("period_to", f"must be after the current end {self.period_to}")
        if isinstance(event, PlanSuperseded) and event.by_plan == self.key:
            raise DomainError("by_plan", "a plan cannot supersede itself")
        if isinstance(event, PlanItemAdded):
            known = {item.item for item in self.items}
            if event.item in known:
                raise DomainError("item", f"{event.item} is already in plan {self.key}")
            if event.parent is not None and event.parent not in known:
                raise DomainError("parent", f"no item {event.parent} in plan {self.key}")

    def evolve(self, event: Event) -> Self:
        match event:
            case PlanSentToPanel():
                return self._next(event, status=PlanStatus.SENT_TO_PANEL)
            case PanelReportReceived():
                return self._next(event, status=PlanStatus.PANEL_REPORTED)
            case PlanIssued():
                return self._next(event, status=PlanStatus.ISSUED)
            case PlanVaried():
                return self._next(event, variations=self.variations + 1)
            case PlanExtended():
                return self._next(event, period_to=event.period_to)
            case PlanSuperseded():
                return self._next(event, status=PlanStatus.SUPERSEDED, superseded_by=event.by_plan)
            case PlanItemAdded():
                item = PlanItem(**event.payload())
                return self._next(event, items=(*self.items, item))
        return super().evolve(event)


class DeliverableStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CARRIED_OVER = "carried_over"
    LAPSED = "lapsed"


TERMINAL_STATUSES = frozenset(
    {
        DeliverableStatus.COMPLETED,
        DeliverableStatus.CLOSED,
        DeliverableStatus.CARRIED_OVER,
        DeliverableStatus.LAPSED,
    }
)


class DeliverableAdded(Event):
    """A numbered commitment in a plan: who leads it, how success is measured, by when."""

    creates = True
    key: Key
    plan: Key
    item: Key | None = None
    number: Annotated[str, Field(max_length=20)] = ""
    title: Text
    lead: OptionalText = ""
    measure: OptionalText = ""
    deadline: OptionalText = ""
    """The deadline as the document states it ('Ongoing, June 2011')."""
    due_on: date | None = None
    """The deadline as a date, where the stated one names one."""
    risk_links: tuple[Key, ...] = ()


class DeliverableLeadAssigned(Event):
    changes_fact = True
    lead: ShortText


class DeliverableDeadlineChanged(Event):
    changes_fact = True
    deadline: ShortText
    due_on: date | None = None


class DeliverableStatusChanged(Event):
    changes_fact = True
    status: DeliverableStatus

    @field_validator("status")
    @classmethod
    def _not_by_transfer(cls, value: DeliverableStatus) -> DeliverableStatus:
        if value in (DeliverableStatus.CARRIED_OVER, DeliverableStatus.LAPSED):
            raise ValueError(f"record '{value}' with its own event, which says to whom or why")
        return value


class DeliverableCarriedOver(Event):
    """At a transfer, an open commitment passes to the successor body."""

    changes_fact = True
    to_body: Key
    to_plan: Key | None = None


class DeliverableLapsed(Event):
    changes_fact = True


class Deliverable(Aggregate):
    kind = "deliverable"
    created_by = DeliverableAdded
    changed_by = (
        DeliverableLeadAssigned,
        DeliverableDeadlineChanged,
        DeliverableStatusChanged,
        DeliverableCarriedOver,
        DeliverableLapsed,
    )
    plan: str
    item: str | None
    number: str
    title: str
    lead: str
    measure: str
    deadline: str
    due_on: date | None
    risk_links: tuple[str, ...]
    status: DeliverableStatus = DeliverableStatus.OPEN
    carried_over_to: str | None = None

    def check(self, event: Event) -> None:
        if self.status in TERMINAL_STATUSES:
            raise DomainError("key", f"deliverable {self.key} is {self.status}; it cannot change")
        if isinstance(event, DeliverableStatusChanged) and event.status is self.status:
            raise DomainError("status", f"deliverable {self.key} is already {self.status}")

    def evolve(self, event: Event) -> Self:
        match event:
            case DeliverableLeadAssigned():
                return self._next(event, lead=event.lead)
            case DeliverableDeadlineChanged():
                return self._next(event, deadline=event.deadline, due_on=event.due_on)
            case DeliverableStatusChanged():
                return self._next(event, status=event.status)
            case DeliverableCarriedOver():
                return self._next(
                    event, status=DeliverableStatus.CARRIED_OVER, carried_over_to=event.to_body
                )
            case DeliverableLapsed():
                return self._next(event, status=DeliverableStatus.LAPSED)
        return super().evolve(event)


Figure = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


class TargetSet(Event):
    """A target (or strategic ambition); its figure may wait for a baseline that comes later."""

    creates = True
    key: Key
    plan: Key
    item: Key | None = None
    title: Text
    measure: OptionalText = ""
    value: Figure | None = None
    unit: Annotated[str, Field(max_length=50)] = ""


class BaselineRecorded(Event):
    value: Figure
    period: ShortText


class TargetRevised(Event):
    """The reason is the justification for the revision."""

    changes_fact = True
    old_value: Figure | None
    new_value: Figure


class OutcomeMeasured(Event):
    value: Figure
    period: ShortText


class Target(Aggregate):
    kind = "target"
    created_by = TargetSet
    changed_by = (BaselineRecorded, TargetRevised, OutcomeMeasured)
    plan: str
    item: str | None
    title: str
    measure: str
    value: Decimal | None
    unit: str
    baseline: Decimal | None = None
    revisions: int = 0
    last_outcome: Decimal | None = None

    def check(self, event: Event) -> None:
        if isinstance(event, TargetRevised):
            if event.old_value != self.value:
                raise DomainError(
                    "old_value",
                    f"the target {self.key} stands at {self.value}, not {event.old_value}",
                )
            if event.new_value == self.value:
                raise DomainError("new_value", "a revision must change the value")

    def evolve(self, event: Event) -> Self:
        match event:
            case BaselineRecorded():
                return self._next(event, baseline=event.value)
            case TargetRevised():
                return self._next(event, value=event.new_value, revisions=self.revisions + 1)
            case OutcomeMeasured():
                return self._next(event, last_outcome=event.value)
        return super().evolve(event)
