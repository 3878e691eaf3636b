"""Entity field history: the one table shape most read models need.

Each stored row says: this event set these fields of this entity to these values (a JSON
object, ``changes``), effective then, known then. Read back, a row is expanded into one row per
field (``field``, ``value`` and, for the audit trail, ``before``, decoded). The state of an
entity for a question (as_of, known_at) is, field by field, the value of the latest visible
field row (by effective time, then position). Sums and series are read from the same rows.

One stored row per event, not one per field, and one table for every read model: the entity
history (``entity_fields``) is written once per event by ``EntityHistory``, and each field-based
read model is a set of queries over it, limited to its kinds, plus its own small index tables
where a query needs one (the decision trail's). A rebuild writes about one row an event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from ledger.domain import Event, EventRetracted

from .base import (
    CHANGES,
    NEW,
    Ask,
    Projection,
    Rows,
    envelope_columns,
    json_text,
    jsonable,
    standard_columns,
)
from .changes import fields_set, kind_of, kind_of_type, parent_of

Entity = dict[str, Any]


def field_table(name: str, metadata: MetaData, *, with_before: bool = False) -> Table:
    extra = [Column("before", Text)] if with_before else []
    return Table(
        f"{name}_fields",
        metadata,
        *standard_columns(),
        Column("entity_id", String(36), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("key", String(128), nullable=False),
        Column("parent", String(128), nullable=False),
        Column("changes", Text, nullable=False),
        *extra,
        Column("event_type", String(40), nullable=False),
        Column("corrects", String(36)),
        *envelope_columns(),
        Index(f"ix_{name}_entity", "kind", "key"),
        Index(f"ix_{name}_parent", "kind", "parent"),
        Index(f"ix_{name}_entity_id", "entity_id"),
    )


HISTORY_KINDS = frozenset({
    "body", "office-term", "transfer", "plan", "deliverable", "target", "grant", "decision",
    "budget", "inspection",
})
"""The entity kinds the history keeps: every kind a read model reads."""

_history_metadata = MetaData()
ENTITY_FIELDS = field_table("entity", _history_metadata, with_before=True)
"""The shared entity history: one row per event that sets fields of an entity."""


_ENTITY_IDS: dict[UUID, str] = {}
"""Entity ids as text, by id: a replay meets each entity many times."""


_FOLDED = ("entity_id", "kind", "key", "effective_at", "position", "event_type", "changes")
"""The columns a state without ``_rows`` is folded from."""


class FieldProjection(Projection):
    """A read model over the entity history, limited to the entity kinds it cares about.

    Only ``EntityHistory`` writes the history; every other field projection reads it and
    writes only its own ``extra_tables``."""

    kinds: ClassVar[frozenset[str]]
    table: ClassVar[Table] = ENTITY_FIELDS
    with_before: ClassVar[bool] = False
    """Whether its reads show corrections' retraction rows and before-values (the audit)."""
    writes_history: ClassVar[bool] = False
    _wanted: ClassVar[dict[type[Event], bool]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls._wanted = {}
            if cls.writes_history:
                cls.metadata = _history_metadata
                cls.tables = (ENTITY_FIELDS,)
            else:
                cls.metadata = MetaData()
                cls.tables = cls.extra_tables(cls.metadata)

    @classmethod
    def extra_tables(cls, metadata: MetaData) -> tuple[Table, ...]:
        """Tables a read model keeps beside its field history (an index for its queries)."""
        return ()

    def wants(self, event: Event) -> bool:
        """Answered once per event type (``wants_type``): a rebuild asks for every event."""
        found = self._wanted.get(type(event))
        if found is None:
            found = self._wanted[type(event)] = self.wants_type(type(event))
        return found

    def wants_type(self, cls: type[Event]) -> bool:
        """Whether events of this type can concern this read model."""
        if not self.tables:
            return False  # it only reads the history
        kind = kind_of_type(cls)
        return kind is None or kind in self.kinds  # a retraction names no kind: look it up

    def rows(
        self, rows: Rows, event: Event, base: dict[str, Any]
    ) -> list[tuple[Table, dict[str, Any]]]:
        """The history's row for this event (only ``EntityHistory`` writes one)."""
        if not self.writes_history:
            return []
        entity_id = _ENTITY_IDS.get(event.originator_id)
        if entity_id is None:
            if len(_ENTITY_IDS) >= 65_536:
                _ENTITY_IDS.clear()
            entity_id = _ENTITY_IDS[event.originator_id] = str(event.originator_id)
        corrects = event.corrects
        if event.creates:
            kind, key = kind_of(event), str(getattr(event, "key", ""))
            fields = fields_set(event)
            parent = parent_of(kind or "", key, fields, event.body)
            fields["source"] = event.source.model_dump()
            fields["created_by"] = {"actor": event.actor, "role": event.role.value,
                                    "body": event.body}
            known = rows.last_state(self.table, entity_id) if corrects is not None else None
        else:
            known = rows.last_state(self.table, entity_id)
            if known is None:
                return []
            kind, key, parent = known["kind"], known["key"], known["parent"]
            if isinstance(event, EventRetracted):
                # the retraction itself is already applied (rows hidden); only the audit shows it
                fields = {"retracted": str(corrects)}
            else:
                fields = fields_set(event)
        if kind not in self.kinds or not fields:
            return []
        changes = jsonable(fields)
        source = event.source
        row = {
            "entity_id": entity_id,
            "kind": kind,
            "key": key,
            "parent": parent,
            "event_type": type(event).__name__,
            "corrects": str(corrects) if corrects else None,
            "actor": event.actor,
            "role": event.role.value,
            "body": event.body,
            "reason": event.reason,
            "source_document": source.document,
            "source_location": source.location,
            "changes": json_text(changes),
            CHANGES: changes,
            NEW: event.creates and corrects is None,
        }
        if known is None:
            row["before"] = None
        else:
            was = known["fields"]
            before = {name: was[name] for name in changes if name in was}
            row["before"] = json_text(before) if before else None
        return [(self.table, row)]

    def field_rows(
        self, rows: Rows, ask: Ask, where: dict[str, Any] | None = None,
        *, with_retracted: bool = False,
    ) -> list[dict[str, Any]]:
        """Visible rows of this read model's kinds, one per field each event set, in log
        order (a retraction's own row only for the audit)."""
        where = dict(where or {})
        where.setdefault("kind", sorted(self.kinds))
        return [
            expanded
            for row in rows.visible(self.table, ask, where, with_retracted=with_retracted)
            if self.with_before or row["event_type"] != "EventRetracted"
            for expanded in expand(row)
        ]

    # ------------------------------------------------------------------ reading

    def entities(
        self, rows: Rows, ask: Ask, **where: Any
    ) -> dict[tuple[str, str], Entity]:
        """Entity states for the question, keyed by (kind, key), each field its latest value.

        ``_rows`` keeps every visible row of the entity (one per field), for series and sums;
        a read model that needs neither asks ``states``, which does much less work a row.
        """
        latest: dict[tuple[str, str], dict[str, tuple[tuple[str, int, int], Any]]] = (
            defaultdict(dict)
        )
        history: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.field_rows(rows, ask, where):
            ident = (row["kind"], row["key"])
            order = (row["effective_at"], row["position"], row["seq"])
            history[ident].append(row)
            current = latest[ident].get(row["field"])
            if current is None or order > current[0]:
                latest[ident][row["field"]] = (order, row["value"])
        states: dict[tuple[str, str], Entity] = {}
        for ident, fields in latest.items():
            if "created_by" not in fields:  # its creation is not visible for this question
                continue
            state: Entity = {"kind": ident[0], "key": ident[1]}
            state.update({name: value for name, (_, value) in sorted(fields.items())})
            state["_rows"] = sorted(
                history[ident], key=lambda r: (r["effective_at"], r["position"], r["seq"])
            )
            states[ident] = state
        return states

    def states(self, rows: Rows, ask: Ask, **where: Any) -> dict[tuple[str, str], Entity]:
        """``entities`` without ``_rows``: the same fields by the same rule (a field's value is
        that of its latest row by effective time, then position; an entity holds one stored
        row a position, so no two of its rows tie), each stored row's ``changes`` folded whole
        rather than expanded a field at a time. ``_first`` is the entity's earliest row (its
        ``entity_id`` and ``effective_at``)."""
        where.setdefault("kind", sorted(self.kinds))
        history: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows.visible(self.table, ask, where, columns=_FOLDED):
            if self.with_before or row["event_type"] != "EventRetracted":
                history[(row["kind"], row["key"])].append(row)
        states: dict[tuple[str, str], Entity] = {}
        for ident, stored in history.items():
            stored.sort(key=lambda r: (r["effective_at"], r["position"]))
            fields: dict[str, Any] = {}
            for row in stored:
                fields.update(json.loads(row["changes"]))
            if "created_by" not in fields:  # its creation is not visible for this question
                continue
            state: Entity = {"kind": ident[0], "key": ident[1]}
            state.update(sorted(fields.items()))
            state["_first"] = stored[0]
            states[ident] = state
        return states


class EntityHistory(FieldProjection):
    """Writes the shared entity history, with before-values, for every read model."""

    name = "entity_history"
    writes_history = True
    with_before = True
    kinds = HISTORY_KINDS


def expand(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored row as one row per field: ``field``, ``value`` and ``before`` (decoded)."""
    changes = json.loads(row["changes"])
    before = json.loads(row["before"]) if row.get("before") else {}
    common = {name: value for name, value in row.items() if name not in ("changes", "before")}
    return [
        {**common, "seq": seq, "field": name, "value": value, "before": before.get(name)}
        for seq, (name, value) in enumerate(changes.items())
    ]


def prefixed(entity: Entity, prefix: str) -> dict[str, Any]:
    """Fields named 'prefix:name', as {name: value}."""
    return {
        name.split(":", 1)[1]: value
        for name, value in entity.items()
        if name.startswith(prefix + ":")
    }


def public(entity: Entity) -> Entity:
    """An entity without its bookkeeping (rows, 'x:y' sub-fields)."""
    return {k: v for k, v in entity.items() if not k.startswith("_") and ":" not in k}
