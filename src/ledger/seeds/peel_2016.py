"""HMIC PEEL 2016 efficiency inspection of Kent (seed 004): overall and per-question grades.

The page shows 'Last updated 03/11/2016' (day/month/year), taken as its publication date.
"""

from __future__ import annotations

import re
from datetime import date

from ..services import Fact
from . import Parsed, ParseError, fact

DOCUMENT = "004_a25a0cbce833cd66"
INSPECTION = "peel-2016-kent-efficiency"
BY = ("hmic", "inspector", "hmic")
ISSUED = "2016-11-03"
BODIES = [("hmic", "HM Inspectorate of Constabulary", "inspectorate", ISSUED),
          ("kent-police", "Kent Police", "force", ISSUED)]
GRADES = {"Outstanding": "outstanding", "Good": "good",
          "Requires improvement": "requires_improvement", "Inadequate": "inadequate"}
_UPDATED = re.compile(r"^Last updated (\d{2})/(\d{2})/(\d{4})$")


def parse(text: str) -> Parsed:
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip()]
    published: date | None = None
    facts: list[Fact] = []
    for index, (number, line) in enumerate(lines):
        updated = _UPDATED.match(line)
        if updated:
            day, month, year = (int(g) for g in updated.groups())
            published = date(year, month, day)
            grade_line, grade = lines[index + 1]
            if grade not in GRADES:
                raise ParseError(DOCUMENT, grade_line, f"'{grade}' is not a grade")
            facts.append(fact("InspectionReported", INSPECTION, published.isoformat(), by=BY,
                              document=DOCUMENT, lines=f"lines 1-{number}",
                              inspectorate="hmic", inspected_body="kent-police",
                              title="PEEL 2016: Efficiency",
                              published_on=published.isoformat()))
            facts.append(fact("InspectionGraded", INSPECTION, published.isoformat(), by=BY,
                              document=DOCUMENT, lines=f"line {grade_line}",
                              question="overall", grade=GRADES[grade]))
        elif line.isdigit() and published is not None and index + 2 < len(lines):
            (_, question), (grade_line, grade) = lines[index + 1], lines[index + 2]
            if not question.endswith("?"):
                raise ParseError(DOCUMENT, lines[index + 1][0], "expected a question")
            if grade not in GRADES:
                raise ParseError(DOCUMENT, grade_line, f"'{grade}' is not a grade")
            facts.append(fact("InspectionGraded", INSPECTION, published.isoformat(), by=BY,
                              document=DOCUMENT, lines=f"lines {number}-{grade_line}",
                              question=f"{line}. {question}", grade=GRADES[grade]))
    if published is None:
        raise ParseError(DOCUMENT, 1, "no 'Last updated DD/MM/YYYY' line")
    return Parsed(facts, [])
