"""Inspections: grades, areas for improvement, and the improvement actions answering them."""

from datetime import date
from enum import StrEnum
from typing import Self

from .base import Aggregate, DomainError, Event, Key, OptionalText, ShortText, Text


class Grade(StrEnum):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


class ActionTerm(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class InspectionReported(Event):
    creates = True
    key: Key
    inspectorate: Key
    inspected_body: Key
    title: ShortText
    published_on: date | None = None


class InspectionGraded(Event):
    question: ShortText
    """'overall' or the inspection question graded."""
    grade: Grade


class AreaForImprovementRaised(Event):
    """A numbered point of the report; ``is_area_for_improvement`` is False for a mere comment."""

    point: Key
    paragraph: OptionalText = ""
    text: Text
    is_area_for_improvement: bool = True
    refers_to: tuple[Key, ...] = ()


class ImprovementActionPlanned(Event):
    action: Key
    point: Key
    term: ActionTerm
    text: Text
    owner: OptionalText = ""
    due: OptionalText = ""
    due_on: date | None = None


class ImprovementActionCompleted(Event):
    action: Key


class Inspection(Aggregate):
    kind = "inspection"
    created_by = InspectionReported
    changed_by = (
        InspectionGraded,
        AreaForImprovementRaised,
        ImprovementActionPlanned,
        ImprovementActionCompleted,
    )
    inspectorate: str
    inspected_body: str
    title: str
    published_on: date | None
    grades: tuple[tuple[str, Grade], ...] = ()
    points: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    completed_actions: tuple[str, ...] = ()

    def check(self, event: Event) -> None:
        match event:
            case InspectionGraded() if any(q == event.question for q, _ in self.grades):
                raise DomainError("question", f"'{event.question}' is already graded")
            case AreaForImprovementRaised():
                if event.point in self.points:
                    raise DomainError("point", f"point {event.point} is already recorded")
            case ImprovementActionPlanned():
                if event.point not in self.points:
                    raise DomainError("point", f"no point {event.point} in inspection {self.key}")
                if event.action in self.actions:
                    raise DomainError("action", f"action {event.action} is already planned")
            case ImprovementActionCompleted():
                if event.action not in self.actions:
                    raise DomainError("action", f"no action {event.action} is planned")
                if event.action in self.completed_actions:
                    raise DomainError("action", f"action {event.action} is already completed")

    def evolve(self, event: Event) -> Self:
        match event:
            case InspectionGraded():
                return self._next(event, grades=(*self.grades, (event.question, event.grade)))
            case AreaForImprovementRaised():
                return self._next(event, points=(*self.points, event.point))
            case ImprovementActionPlanned():
                return self._next(event, actions=(*self.actions, event.action))
            case ImprovementActionCompleted():
                return self._next(event, completed_actions=(*self.completed_actions, event.action))
        return super().evolve(event)
