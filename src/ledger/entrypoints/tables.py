"""What each read view shows in its table (and CSV): the columns a person needs to answer the
question the view is for, each reading as text. The JSON shapes are the read models' own;
these layouts only choose and word what a table holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.models import natural

from .output import Column, Section, readable

FIRST_SEEN = "first seen in the documents"
"""A body whose establishment date the sources do not give (its ``note`` says so) is dated by
the first document that shows it in existence: its date is labelled so, never as founded."""


# ---------------------------------------------------------------- decisions


def _signoffs(value: Any) -> str:
    if not value:
        return "none"
    return "; ".join(f"{s.get('signed_by') or '?'} ({s['signatory']}) {s.get('signed_on') or ''}"
                     .strip() for s in value)


def _interests(value: Any) -> str:
    if not value:
        return "none recorded"
    return "; ".join(f"{i.get('person')}: {i.get('interest')}" for i in value)


DECISIONS: list[Column | str] = [
    Column("reference"), Column("decided_on"), Column("body"), Column("title"),
    Column("office_holders", "office holders"),
    Column("signoffs", "signed off", text=_signoffs),
    Column("interests", "interests declared", text=_interests),
    Column("published_on"),
]


# ---------------------------------------------------------------- plans


def plan_view(found: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[Section]]:
    """One plan: a header (title, status, period, extension, variations) and its items in
    outline order, its deliverables and its targets."""
    plan = found["plan"]
    items = outline(plan.get("items") or [])
    numbers = {i["item"]: i["number"] for i in items}
    header: list[tuple[str, Any]] = [
        ("plan", plan["key"]),
        ("title", plan.get("title")),
        ("status", plan.get("status")),
        ("period", _period(plan.get("period_from"), plan.get("period_to"))),
        ("extension", _extensions(plan.get("extensions"))),
        ("variations", _variations(plan.get("variations"))),
    ]
    if plan.get("superseded_by"):
        header.append(("superseded by", plan["superseded_by"]))
    if found.get("as_of"):
        header.append(("as of", found["as_of"]))
    header.append(("source", plan.get("source")))
    deliverables = [{**d, "number": _number(numbers.get(d.get("item") or ""), d.get("number"))}
                    for d in found.get("deliverables", [])]
    d_columns: list[Column | str] = ["key", "number", "title", "lead", "deadline", "status"]
    if any(d.get("overdue") for d in deliverables):
        d_columns.append(Column("overdue", text=lambda v: "overdue" if v else ""))
    if any(d.get("handover") for d in deliverables):
        d_columns.append(Column("handover", "at the handover"))
    d_columns.append("source")
    return header, [
        Section("Items", items, ["number", "item", Column("item_kind", "kind"), "title"]),
        Section("Deliverables", deliverables, d_columns),
        Section("Targets", found.get("targets", []),
                ["key", "title", "value", "unit", "measure", "item", "source"]),
    ]


def outline(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A plan's items in outline order, each under its parent, siblings in natural order of
    their keys (1.2 before 1.10); each ``number`` the full one, its parents' numbers first
    (section 1, descriptor 2, deliverable 10: 1.2.10)."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    keys = {i["item"] for i in items}
    for item in items:
        parent = item.get("parent") if item.get("parent") in keys else None
        by_parent.setdefault(parent, []).append(item)
    ordered: list[dict[str, Any]] = []

    def walk(parent: str | None, prefix: str) -> None:
        for item in sorted(by_parent.get(parent, []), key=lambda i: natural(i["item"])):
            number = _number(prefix, item.get("number"))
            ordered.append({**item, "number": number})
            walk(item["item"], number)

    walk(None, "")
    return ordered


def _number(prefix: str | None, own: Any) -> str:
    own = str(own or "")
    if prefix and own:
        return f"{prefix}.{own}"
    return own or prefix or ""


def _period(start: Any, end: Any) -> str:
    return f"{start or '?'} to {end or 'open'}"


def _extensions(found: Any) -> str:
    if not found:
        return "none"
    return "; ".join(
        f"to {e.get('period_to')} (recorded effective {e.get('effective_at')}"
        f"{': ' + e['reason'] if e.get('reason') else ''})" for e in found)


def _variations(found: Any) -> str:
    if not found:
        return "none"
    return "; ".join(f"{v.get('effective_at')}: {v.get('summary')}" for v in found)


# ---------------------------------------------------------------- transitions


def transitions_view(found: dict[str, Any]) -> list[Section]:
    """Bodies (with what their dates are), office terms, transfers, and what became of each
    commitment open at a transfer."""
    bodies = [{**b, "since": f"{FIRST_SEEN if b.get('note') else 'established'} "
                             f"{b.get('established_on')}"}
              for b in found.get("bodies", [])]
    transfers = found.get("transfers", [])
    commitments = [
        {"transfer": t["key"], "on": t["on"], **c}
        for t in transfers
        for c in sorted(t.get("commitments", []), key=lambda c: natural(c["deliverable"]))
    ]
    return [
        Section("Bodies", bodies, ["key", "name", Column("body_type", "type"), "since",
                                   Column("abolished_on", "abolished")]),
        Section("Office terms", found.get("office_terms", []),
                ["holder", "office", "office_body", "from", "to", "elected_on"]),
        Section("Transfers", transfers, ["key", "on", "from_body", "to_body",
                                         "responsibility", "legal_basis"]),
        Section("Commitments open at a transfer", commitments,
                ["transfer", "deliverable", "number", "lead", "deadline", "outcome",
                 "outcome_on", "carried_over_to"]),
    ]


# ---------------------------------------------------------------- targets, audit, replay


def target_rows(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step of each target's series, with the target's title and unit."""
    return [{"target": t["key"], "title": t.get("title"), "unit": t.get("unit"), **s}
            for t in sorted(found, key=lambda t: natural(t["key"])) for s in t["series"]]


TARGETS: list[Column | str] = ["target", "title", "unit", "effective_at", "step", "value",
                               "period", "old_value", "justification"]
AUDIT: list[Column | str] = ["position", "effective_at", "event_type", "field", "before",
                             "after", "actor", "role", "reason", "source", "corrected_by"]
REPLAY: list[Column | str] = ["position", "type", "key", "effective_at", "actor", "reason",
                              Column("state", text=lambda v: readable(_state(v)))]
GRANTS: list[Column | str] = ["key", "recipient", "funding_body", "financial_year", "amount",
                              "paid", "status"]


def _state(state: Any) -> Any:
    """An entity's state after an event, without what the row shows already or every state
    repeats (its id, version, kind and key, the date it began)."""
    if not isinstance(state, dict):
        return state
    return {k: v for k, v in state.items()
            if k not in ("id", "version", "kind", "key", "effective_from")}
