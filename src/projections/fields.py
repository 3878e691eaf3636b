"""Entity field history: the one table shape most read models need.

Each row says: this event set this field of this entity to this value, effective then, known
then. The state of an entity for a question (as_of, known_at) is, field by field, the value of
the latest visible row (by effective time, then position). Sums and series are read from the
same rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, ClassVar

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from ledger.domain import Event, EventRetracted

from .base import (
    Ask,
    Projection,
    Rows,
    dumps,
    envelope,
    envelope_columns,
    standard_columns,
)
from .changes import fields_set, kind_of, parent_of

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
        Column("field", String(200), nullable=False),
        Column("value", Text),
        *extra,
        Column("event_type", String(40), nullable=False),
        Column("corrects", String(36)),
        *envelope_columns(),
        Index(f"ix_{name}_entity", "kind", "key"),
        Index(f"ix_{name}_parent", "kind", "parent"),
        Index(f"ix_{name}_entity_id", "entity_id", "field"),
    )


class FieldProjection(Projection):
    """A read model over entity field history, limited to the entity kinds it cares about."""

    kinds: ClassVar[frozenset[str]]
    table: ClassVar[Table]
    with_before: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.metadata = MetaData()
            cls.table = field_table(cls.name, cls.metadata, with_before=cls.with_before)
            cls.tables = (cls.table,)

    def rows(
        self, rows: Rows, event: Event, base: dict[str, Any]
    ) -> list[tuple[Table, dict[str, Any]]]:
        entity_id = str(event.originator_id)
        if event.creates:
            kind, key = kind_of(event), str(getattr(event, "key", ""))
            fields = fields_set(event)
            parent = parent_of(kind or "", key, fields, event.body)
            fields["source"] = event.source.model_dump()
            fields["created_by"] = {"actor": event.actor, "role": event.role.value,
                                    "body": event.body}
        else:
            known = rows.latest(self.table, {"entity_id": entity_id})
            if known is None:
                return []
            kind, key, parent = known["kind"], known["key"], known["parent"]
            if isinstance(event, EventRetracted):
                # the retraction itself is already applied (rows hidden); only the audit shows it
                fields = {"retracted": str(event.corrects)} if self.with_before else {}
            else:
                fields = fields_set(event)
        if kind not in self.kinds:
            return []
        common = {
            "entity_id": entity_id,
            "kind": kind,
            "key": key,
            "parent": parent,
            "event_type": event.type,
            "corrects": str(event.corrects) if event.corrects else None,
            **envelope(event),
        }
        produced = []
        for field, value in fields.items():
            row = {**common, "field": field, "value": dumps(value)}
            if self.with_before:
                previous = rows.latest(self.table, {"entity_id": entity_id, "field": field})
                row["before"] = previous["value"] if previous else None
            produced.append((self.table, row))
        return produced

    # ------------------------------------------------------------------ reading

    def entities(
        self, rows: Rows, ask: Ask, **where: Any
    ) -> dict[tuple[str, str], Entity]:
        """Entity states for the question, keyed by (kind, key), each field its latest value.

        ``_rows`` keeps every visible row of the entity, for series and sums.
        """
        latest: dict[tuple[str, str], dict[str, tuple[tuple[str, int, int], Any]]] = (
            defaultdict(dict)
        )
        history: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows.visible(self.table, ask, where):
            ident = (row["kind"], row["key"])
            order = (row["effective_at"], row["position"], row["seq"])
            history[ident].append(row)
            current = latest[ident].get(row["field"])
            if current is None or order > current[0]:
                latest[ident][row["field"]] = (order, json.loads(row["value"]))
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
