"""What each event field means, said for the people who record it (the write commands' --help).

A field's own docstring in its event class says it first (``meaning`` reads them from the
source, once per class, only when help is shown); the entries below say what the classes leave
unsaid, by field name, or by event type and field where one name means something else there.
Plain text, no imports: building help must not load anything it does not show.
"""

from __future__ import annotations

import functools
from typing import Any

MEANINGS: dict[str, str] = {
    # people, bodies, offices
    "name": "The full name, as the record gives it.",
    "acts_for": "The body the actor records for (its key).",
    "roles": "The roles the actor may act in.",
    "public_key": "The actor's public signing key (`ledger key show ACTOR`, "
                  "ed25519:...).",
    "granted": "The role granted.",
    "revoked": "The role revoked.",
    "body_type": "What kind of body it is.",
    "area": "The area the body serves (e.g. Kent).",
    "note": "A note on the record, e.g. that the establishment date is not in the sources.",
    "office_body": "The body whose office is held (its key).",
    "office": "The office held, e.g. Police and Crime Commissioner.",
    "holder": "The person holding the office, as the log registered their name.",
    "elected_on": "The date of the election (YYYY-MM-DD), if any.",
    "from_body": "The body handing over (its key).",
    "to_body": "The body taking over (its key).",
    "responsibility": "What passes, in the words of the record.",
    "legal_basis": "The law under which it passes (e.g. PRSRA 2011 Schedule 15).",
    # plans, items, deliverables, targets
    "title": "The title, as the document gives it.",
    "plan_type": "The kind of plan (a key), e.g. police-and-crime-plan.",
    "period_from": "The first day of the plan's period (YYYY-MM-DD).",
    "period_to": "The last day of the plan's period (YYYY-MM-DD).",
    "panel": "The Police and Crime Panel (its body key).",
    "summary": "What the Panel said, or what the variation changes, in brief.",
    "by_plan": "The plan that takes this one's place (its key).",
    "item": "The plan item it belongs to (the item's key within the plan).",
    "item_kind": "What the item is within the plan.",
    "parent": "The item this one sits under (its key), if any.",
    "number": "Its number as the document prints it (e.g. 1.2 or 10).",
    "plan": "The plan it belongs to (its key).",
    "lead": "Who leads it, as the document names them.",
    "measure": "How success is measured, in the document's words.",
    "deadline": "The deadline as the document states it (e.g. 'Ongoing, June 2011').",
    "due_on": "The deadline as a date (YYYY-MM-DD), where the stated one names one.",
    "risk_links": "Risk register codes it is linked to; repeat for several.",
    "status": "The new status.",
    "to_plan": "The successor's plan that takes it on (its key), if any.",
    "value": "The figure.",
    "unit": "The unit of the figure (e.g. percent, GBP).",
    "period": "The period the figure is for (e.g. 2012/13).",
    "old_value": "The figure before the revision.",
    "new_value": "The revised figure.",
    # grants, budgets, precepts
    "recipient": "Who receives the grant, as the document names them.",
    "amount": "An amount in pounds and pence (e.g. 1500.00).",
    "currency": "The ISO 4217 currency code.",
    "purpose": "What the grant is for.",
    "conditions": "Conditions attached to the grant, if any.",
    "funding_body": "The body paying the grant (its key).",
    "by_decision": "The Record of Decision that awarded it (its reference).",
    "financial_year": "The financial year, April to March (e.g. 2013-14).",
    "line": "The budget line (its key within the budget).",
    "heading": "The budget line's heading, as the document prints it.",
    "category": "Whether the line is expenditure, income or financing.",
    "band_d": "The Band D council tax precept, in pounds and pence.",
    "outcome": "What the Panel concluded.",
    # decisions
    "originator": "Who brought the decision forward (name or post).",
    "confidentiality": "Whether the decision's words are open or confidential.",
    "confidential_reason": "Why it is confidential, e.g. the FOIA exemption (needed when "
                           "confidential).",
    "executive_summary": "The Record of Decision's executive summary.",
    "recommendation": "The recommendation made.",
    "decision": "The decision taken, in its own words.",
    "financial_advice": "The financial advice recorded on the form.",
    "legal_advice": "The legal advice recorded on the form.",
    "plan_items": "Plan items the decision relates to (their keys); repeat for several.",
    "signatory": "The capacity signed in; only your own.",
    "published_on": "The date it was published (YYYY-MM-DD).",
    "location": "Where it was published (a URL or place).",
    "person": "Who declares the interest.",
    "interest": "The interest declared.",
    # inspections
    "inspectorate": "The inspectorate (its body key), e.g. hmic.",
    "inspected_body": "The body inspected (its key).",
    "question": "The question graded, or 'overall'.",
    "grade": "The grade given.",
    "point": "The report's point (its key, e.g. its number).",
    "paragraph": "The report paragraph it cites.",
    "text": "The text, as the document gives it.",
    "is_area_for_improvement": "An area for improvement (the default) or a mere comment.",
    "refers_to": "Other points it refers to (their keys); repeat for several.",
    "action": "The improvement action (its key within the inspection).",
    "term": "Whether the action is short, medium or long term.",
    "owner": "Who owns the action.",
    "due": "When it is due, as the document states it.",
    # documents, disclosure
    "sha256": "The SHA-256 of the document's text.",
    "line_count": "How many lines the text has.",
    "check": "The check's key.",
    "what": "What the total is, as the document names it.",
    "precision": "How far the stated total is rounded (e.g. 0.1).",
    "sums": "The recorded lines the total claims to sum.",
    "event": "The event it is about (its id).",
    "position": "The position of the event it is about.",
    "fields": "The event's fields it names ('*': every text field).",
    "basis": "The legal basis for withholding them.",
}
"""By field name: what the field means wherever its class says nothing more."""

BY_TYPE: dict[tuple[str, str], str] = {
    ("BodyEstablished", "name"): "The body's full name.",
    ("ActorRegistered", "public_key"): "The actor's public signing key (`ledger key show "
                                       "ACTOR` prints it); required when registering.",
    ("ActorRegistered", "name"): "The actor's name: a commissioner's must match their office "
                                 "term's holder.",
    ("PlanVaried", "summary"): "What the variation changes, in brief.",
    ("PanelReportReceived", "summary"): "What the Panel's report says, in brief.",
    ("DeliverableStatusChanged", "status"): "The deliverable's new status.",
    ("DeliverableDeadlineChanged", "deadline"): "The new deadline as the document states it.",
    ("TargetSet", "value"): "The target figure, if the document gives one yet.",
    ("BaselineRecorded", "value"): "The baseline figure.",
    ("OutcomeMeasured", "value"): "The measured figure.",
    ("GrantAwarded", "amount"): "The amount awarded, in pounds and pence.",
    ("GrantVaried", "amount"): "The new amount of the grant, in pounds and pence.",
    ("GrantPaid", "amount"): "The amount paid, in pounds and pence.",
    ("SavingsRequirementSet", "amount"): "The savings required, in pounds and pence.",
    ("BudgetLineSet", "amount"): "The line's amount, in pounds and pence.",
    ("TotalStated", "amount"): "The total the document states.",
    ("TotalStated", "unit"): "The unit of the total (e.g. GBP, GBP million).",
    ("InspectionReported", "title"): "The report's title.",
    ("InspectionReported", "published_on"): "The date the report was published (YYYY-MM-DD).",
    ("DecisionRecorded", "title"): "The decision's title, as the Record of Decision gives it.",
    ("SourceDocumentRegistered", "title"): "The document's title.",
    ("PreceptReviewed", "panel"): "The Panel reviewing the precept (its body key).",
    ("PreceptVetoed", "panel"): "The Panel vetoing the precept (its body key).",
}
"""By event type and field: where a common name means something particular."""


def meaning(cls: type[Any], field: str) -> str:
    """What ``field`` of the event class ``cls`` means: its pydantic description, this
    module's entry for the type and field, the first sentence of its docstring in the class (or
    a base), or this module's entry for the name; '' when none says."""
    info = getattr(cls, "model_fields", {}).get(field)
    if info is not None and info.description:
        return str(info.description)
    if (cls.__name__, field) in BY_TYPE:
        return BY_TYPE[(cls.__name__, field)]
    for klass in cls.__mro__:
        said = _docstrings(klass).get(field)
        if said:
            return _first_sentence(said)
    return MEANINGS.get(field, "")


@functools.cache
def _docstrings(klass: type[Any]) -> dict[str, str]:
    """The docstrings written under a class's fields (``name: T`` then a string)."""
    import ast
    import inspect
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # a built-in or generated class: no source
        return {}
    tree = ast.parse(source)
    if not tree.body or not isinstance(tree.body[0], ast.ClassDef):
        return {}
    body = tree.body[0].body
    found = {}
    for node, after in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            found[node.target.id] = " ".join(after.value.value.split())
    return found


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]
