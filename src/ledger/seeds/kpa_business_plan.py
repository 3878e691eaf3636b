"""Kent Police Authority Business Plan, March 2011 - May 2012 (seed 000).

Four numbered sections; each a table (tab-separated, six columns) of descriptors and their
numbered deliverables with lead, performance measure, 'By When' and risk-register codes. A
descriptor cell left empty continues the one above; some rows pack several deliverables into
one row as parallel <p> paragraphs; section headings repeat at page breaks.
"""

from __future__ import annotations

import re

from . import Parsed, ParseError, clean, fact, month_end

DOCUMENT = "000_936d9d2f2833dd1e"
PLAN = "kpa-business-plan-2011-12"
KPA = "kent-police-authority"
BY = (KPA, "authority_member", KPA)
START, END, TRANSFER_EVE = "2011-03-01", "2012-05-31", "2012-11-21"

ISSUED = START
BODIES = [(KPA, "Kent Police Authority", "police_authority", START)]
"""Bodies the document needs; their establishment dates are not in it (see BodyEstablished)."""

_SECTION = re.compile(r"^(\d)\. ([A-Z][A-Z ,]+)$")
_NUMBERED = re.compile(r"^(\d+)\.\s+(.+)$")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_RISK = re.compile(r"KPA\d+")


def _cells(cell: str) -> list[str]:
    paragraphs = _PARAGRAPH.findall(cell)
    return [clean(p) for p in paragraphs] if paragraphs else [clean(cell)]


def parse(text: str) -> Parsed:
    lines = text.splitlines()
    title = _line_of(lines, "Kent Police Authority Business Plan")
    period = _line_of(lines, "March 2011")
    footnote = _line_of(lines, "* This plan is extended")
    facts = [
        fact("PlanDrafted", PLAN, START, by=BY, document=DOCUMENT, lines=f"lines {title}-{period}",
             title="Kent Police Authority Business Plan March 2011 - May 2012",
             plan_type="business-plan", period_from=START, period_to=END),
        fact("PlanIssued", PLAN, START, by=BY, document=DOCUMENT, lines=f"line {period}"),
    ]
    findings: list[str] = []
    section = descriptor = 0
    sections_seen: set[int] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        heading = _SECTION.match(line.strip())
        if heading:
            if int(heading.group(1)) != section:  # a repeated heading (page break) continues
                section, descriptor = int(heading.group(1)), 0
            if section not in sections_seen:
                sections_seen.add(section)
                facts.append(fact("PlanItemAdded", PLAN, START, by=BY, document=DOCUMENT,
                                  lines=f"line {number}", item=f"s{section}",
                                  item_kind="section", number=str(section),
                                  title=heading.group(2).strip().capitalize()))
            continue
        if "\t" not in line or line.startswith("Descriptors\t"):
            continue
        if not section:
            raise ParseError(DOCUMENT, number, "a table row before any numbered section")
        cells = line.split("\t")
        if len(cells) != 6:
            raise ParseError(DOCUMENT, number,
                             f"expected 6 tab-separated cells, found {len(cells)}")
        if clean(cells[0]):
            descriptor += 1
            facts.append(fact("PlanItemAdded", PLAN, START, by=BY, document=DOCUMENT,
                              lines=f"line {number}", item=f"s{section}.d{descriptor}",
                              item_kind="descriptor", parent=f"s{section}",
                              number=str(descriptor), title=clean(cells[0])))
        elif not descriptor:
            raise ParseError(DOCUMENT, number, "a deliverable row with no descriptor above it")
        columns = [_cells(c) for c in cells[1:]]
        if len(columns[4]) != len(columns[0]) and len({len(c) for c in columns[:4]}) == 1:
            findings.append(
                f"line {number}: {len(columns[0])} deliverables but {len(columns[4])} "
                f"risk-register paragraphs ({'; '.join(columns[4])}): which codes belong to "
                "which deliverable cannot be told, so none is linked"
            )
            columns[4] = [""] * len(columns[0])
        counts = {len(c) for c in columns}
        if len(counts) != 1:
            raise ParseError(DOCUMENT, number,
                             f"cells hold different numbers of paragraphs: "
                             f"{[len(c) for c in columns]}")
        for activity, lead, measure, when, risks in zip(*columns, strict=True):
            numbered = _NUMBERED.match(activity)
            if not numbered:
                raise ParseError(DOCUMENT, number, f"deliverable without a number: "
                                                   f"'{activity[:40]}'")
            due = month_end(when)
            facts.append(fact(
                "DeliverableAdded", f"{PLAN}/{section}.{descriptor}.{numbered.group(1)}", START,
                by=BY, document=DOCUMENT, lines=f"line {number}", plan=PLAN,
                item=f"s{section}.d{descriptor}", number=numbered.group(1),
                title=numbered.group(2), lead=lead, measure=measure, deadline=when,
                due_on=due.isoformat() if due else None,
                risk_links=[code.lower() for code in _RISK.findall(risks)],
            ))
    if sections_seen != {1, 2, 3, 4}:
        raise ParseError(DOCUMENT, len(lines), f"expected sections 1-4, found "
                                               f"{sorted(sections_seen)}")
    facts.append(fact(
        "PlanExtended", PLAN, END, by=BY, document=DOCUMENT, lines=f"line {footnote}",
        period_to=TRANSFER_EVE,
        reason="the plan is extended to cover the period of transfer to the Police and Crime "
        "Commissioner (footnote *); the transfer took place on 22 November 2012, not in May "
        "2012 as the plan assumed",
    ))
    return Parsed(facts, findings)


def _line_of(lines: list[str], start: str) -> int:
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith(start):
            return number
    raise ParseError(DOCUMENT, 1, f"no line starting '{start}'")
