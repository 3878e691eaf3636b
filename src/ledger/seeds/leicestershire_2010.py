"""Leicestershire Police Authority improvement plan (seed 002), answering the HMIC / Audit
Commission inspection report of 15 January 2010; tabled on 26 January 2010.

A three-column table (point, text, time and accountability). A numbered row quotes the report
paragraph; the SHORT TERM and MEDIUM TERM rows below it hold the actions, enumerated (i), (ii)
...; a row of capitals is a theme. Page breaks ('APPENDIX TO PAPER B ... TABLED AT ...') split
cells: a row that starts neither a point, a term nor a theme continues the cell above. "See
point N" and "the overarching area for improvement" are links, not actions. Point 10 is a
comment by the Inspectors rather than an AFI, and is recorded as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..services import Fact
from . import Parsed, ParseError, clean, fact, month_end

DOCUMENT = "002_1069deafa1a3e593"
INSPECTION = "hmic-ac-2010-leicestershire-police-authority"
LPA = "leicestershire-police-authority"
BY = (LPA, "authority_member", LPA)
INSPECTORS = ("hmic", "inspector", "hmic")
REPORTED, ISSUED = "2010-01-15", "2010-01-26"
BODIES = [(LPA, "Leicestershire Police Authority", "police_authority", REPORTED),
          ("hmic", "HM Inspectorate of Constabulary", "inspectorate", REPORTED),
          ("audit-commission", "Audit Commission", "inspectorate", REPORTED)]

_TERM = re.compile(r"^(SHORT|MEDIUM) TERM:\s*(.*)$", re.S)
_ENUM = re.compile(r"\((i{1,3}|iv|v|vi{0,3})\)\s*")
_SEE = re.compile(r"[Ss]ee points? ((?:\d+)(?:\s*(?:and|,)\s*\d+)*)")
_PARA = re.compile(r"^Para\s+(\d+)(?: of the Inspection Report:)?\s*[–-]?\s*")
_DATE = re.compile(r"(?:\d{1,2} ?(?:st|nd|rd|th)? )?(?:January|February|March|April|May|June|"
                   r"July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|"
                   r"Aug|Sep|Oct|Nov|Dec) \d{4}")
_COMMENT = "This is a comment by the Inspectors rather than an AFI"
_OVERARCHING = "overarching"


@dataclass
class _Cell:
    text: str
    accountability: str
    line: int
    lines: list[int] = field(default_factory=list)


@dataclass
class _Point:
    number: str
    line: int
    text: _Cell
    terms: list[tuple[str, _Cell]] = field(default_factory=list)
    comment: bool = False


def parse(text: str) -> Parsed:
    lines = text.splitlines()
    points = _points(lines)
    overarching = next(n for n, line in enumerate(lines, start=1)
                       if line.strip() == "The Overarching Area for Improvement") + 2
    facts = [
        fact("InspectionReported", INSPECTION, REPORTED, by=INSPECTORS, document=DOCUMENT,
             lines="lines 5-6", inspectorate="hmic", inspected_body=LPA,
             title="Police Authority inspection (Audit Commission and HMIC)",
             published_on=REPORTED),
        fact("AreaForImprovementRaised", INSPECTION, ISSUED, by=BY, document=DOCUMENT,
             lines=f"line {overarching}", point=_OVERARCHING,
             text=clean(lines[overarching - 1])),
    ]
    findings: list[str] = []
    for point in points:
        body = clean(point.text.text)
        paragraph = _PARA.match(body)
        if not paragraph:
            raise ParseError(DOCUMENT, point.line, "a point that quotes no report paragraph")
        refers = sorted({n for _, cell in point.terms for n in _references(cell.text)},
                        key=lambda r: (r != _OVERARCHING, r.zfill(3)))
        facts.append(fact(
            "AreaForImprovementRaised", INSPECTION, ISSUED, by=INSPECTORS, document=DOCUMENT,
            lines=_span(point.text), point=point.number,
            paragraph=f"Para {paragraph.group(1)}", text=body[paragraph.end():] or body,
            is_area_for_improvement=not point.comment, refers_to=refers,
        ))
        for term, cell in point.terms:
            facts += _actions(point.number, term, cell, findings)
    return Parsed(facts, findings)


def _points(lines: list[str]) -> list[_Point]:
    header = next((n for n, line in enumerate(lines, start=1) if line.startswith("Point\t")),
                  None)
    if header is None:
        raise ParseError(DOCUMENT, 1, "no 'Point' table header")
    points: list[_Point] = []
    current: _Cell | None = None
    for number in range(header + 1, len(lines) + 1):
        line = lines[number - 1]
        if "\t" not in line:
            continue  # page furniture and blank lines
        cells = line.split("\t")
        if len(cells) != 3:
            raise ParseError(DOCUMENT, number, f"expected 3 tab-separated cells, found "
                                               f"{len(cells)}")
        first, middle, right = cells[0].strip(), clean(cells[1]), clean(cells[2])
        if first:
            if not first.isdigit():
                raise ParseError(DOCUMENT, number, f"'{first}' is not a point number")
            current = _Cell(middle, right, number, [number])
            points.append(_Point(first, number, current))
            continue
        if not points:
            continue  # themes before the first point
        if middle.isupper() and not _TERM.match(middle):
            continue  # a theme: SETTING STRATEGIC DIRECTION AND PRIORITIES, ...
        term = _TERM.match(middle)
        if term:
            current = _Cell(term.group(2), right, number, [number])
            points[-1].terms.append((term.group(1).lower(), current))
        elif middle.startswith(_COMMENT):
            points[-1].comment = True
        elif current is not None:  # a cell continued after a page break
            current.text = f"{current.text} {middle}".strip()
            current.accountability = f"{current.accountability} {right}".strip()
            current.lines.append(number)
    if not points:
        raise ParseError(DOCUMENT, header, "the table has no numbered points")
    return points


def _references(text: str) -> set[str]:
    found = {n for group in _SEE.findall(text) for n in re.findall(r"\d+", group)}
    if _OVERARCHING in text.lower():
        found.add(_OVERARCHING)
    return found


def _only_reference(text: str) -> bool:
    rest = _SEE.sub("", text)
    rest = re.sub(r"(?i)(see )?(the )?overarching afi( above)?\.?", "", rest)
    rest = re.sub(r"(?i)the overarching (area for improvement|afi)( above)?( also impacts on "
                  r"this)?|and also|above|below|in addition,?|for coordinating activity to "
                  r"the right areas", "", rest)
    return not re.sub(r"[\s.,;:()]+", "", rest)


def _actions(point: str, term: str, cell: _Cell, findings: list[str]) -> list[Fact]:
    parts = [p.strip() for p in _ENUM.split(cell.text)]
    if len(parts) == 1:
        items = [("i", parts[0])]
    else:
        head, rest = parts[0], parts[1:]
        items = list(zip(rest[0::2], rest[1::2], strict=False))
        if head and not _only_reference(head):
            items.insert(0, ("", head))
    owners = _accountability(cell.accountability)
    facts = []
    seen: set[str] = set()
    for roman, text in items:
        if not text or _only_reference(text):
            continue
        action = f"{point}.{term}.{roman or '0'}"
        if action in seen:
            findings.append(f"line {cell.line}: the document numbers two {term}-term actions "
                            f"of point {point} ({roman}); the second is recorded as {action}-2")
            action += "-2"
        seen.add(action)
        when = owners.get(roman) or owners.get("*") or ""
        due = _DATE.search(when)
        owner = " ".join((_DATE.sub("", when)).replace("/", " / ").split()).strip(" /-–")
        if cell.accountability and not when:
            findings.append(f"line {cell.line}: which of '{cell.accountability}' is due from "
                            f"action {point} {term} ({roman or 'unnumbered'}) cannot be told")
        facts.append(fact(
            "ImprovementActionPlanned", INSPECTION, ISSUED, by=BY, document=DOCUMENT,
            lines=_span(cell), action=action, point=point,
            term=term, text=text, owner=owner, due=due.group(0) if due else when,
            due_on=_due_on(due.group(0)) if due else None,
        ))
    return facts


def _accountability(text: str) -> dict[str, str]:
    """'(i) 31 March 2010 Mr Render (ii) July 2010' -> {'i': ..., 'ii': ...}; unnumbered text,
    or a range '(i) – (iv) Treasurer', applies to every action of the cell ('*')."""
    whole = re.match(r"^\((\w+)\)\s*[–-]\s*\((\w+)\)\s*(.*)$", text)
    if whole:
        return {"*": whole.group(3)}
    parts = [p.strip() for p in _ENUM.split(text)]
    if len(parts) == 1:
        return {"*": parts[0]} if parts[0] else {}
    found = dict(zip(parts[1::2], parts[2::2], strict=False))
    if parts[0]:
        found.setdefault("*", parts[0])
    return found


def _due_on(text: str) -> str | None:
    full = re.fullmatch(r"(\d{1,2}) ?(?:st|nd|rd|th)? (\w+) (\d{4})", text)
    if full:
        from datetime import datetime

        for pattern in ("%d %B %Y", "%d %b %Y"):
            try:
                return datetime.strptime(f"{full.group(1)} {full.group(2)} {full.group(3)}",
                                         pattern).date().isoformat()
            except ValueError:
                continue
        return None
    end = month_end(text)
    return end.isoformat() if end else None


def _span(cell: _Cell) -> str:
    numbers = cell.lines or [cell.line]
    return f"line {numbers[0]}" if len(numbers) == 1 else \
        f"lines {', '.join(str(n) for n in numbers)}"
