"""The real governance documents the ledger holds, and their parsers.

Each parser is a pure function: the document's text in, the facts it states out, each fact
citing its document and line numbers. A line it cannot read raises ParseError naming the line;
nothing is guessed.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from ..domain import DomainError
from ..services import Fact


class ParseError(DomainError):
    def __init__(self, document: str, line: int, problem: str) -> None:
        super().__init__(f"{document} line {line}", problem)
        self.document = document
        self.line = line


@dataclass
class Parsed:
    """The facts a document states, and what in it could not be read without guessing."""

    facts: list[Fact]
    findings: list[str]


@dataclass(frozen=True)
class Document:
    key: str
    filename: str
    title: str
    parse: Callable[[str], Parsed]
    issued: str
    """The document's own date: when it is registered, and when bodies it needs are known."""
    by: tuple[str, str, str]
    bodies: list[tuple[str, str, str, str]]

    def text(self) -> str:
        return (resources.files(__package__) / "documents" / self.filename).read_text()


def fact(type_: str, key: str, effective_at: str, *, by: tuple[str, str, str], document: str,
         lines: str, **fields: Any) -> Fact:
    actor, role, body = by
    return Fact(type=type_, key=key, fields={
        "actor": actor, "role": role, "body": body, "effective_at": effective_at,
        "source": {"document": document, "location": lines}, **fields,
    })


_MONTH_YEAR = re.compile(r"^(January|February|March|April|May|June|July|August|September|"
                         r"October|November|December) (\d{4})$")


def month_end(text: str) -> date | None:
    """'June 2011' -> 2011-06-30; anything else (e.g. 'Ongoing, June 2011') -> None."""
    found = _MONTH_YEAR.match(text.strip())
    if not found:
        return None
    month = list(calendar.month_name).index(found.group(1))
    year = int(found.group(2))
    return date(year, month, calendar.monthrange(year, month)[1])


_TAGS = re.compile(r"<[^>]+>")


def clean(text: str) -> str:
    """Plain text of a cell: HTML tags and bold markers dropped, white space folded."""
    return " ".join(_TAGS.sub(" ", text).replace("**", "").split())


def registry() -> dict[str, Document]:
    from . import (
        kent_transition_2012,
        kpa_business_plan,
        leicestershire_2010,
        panel_report_2016,
        pcc_plan_2013,
        peel_2016,
    )

    documents = [
        Document(kpa_business_plan.DOCUMENT, f"{kpa_business_plan.DOCUMENT}.txt",
                 "Kent Police Authority Business Plan March 2011 - May 2012",
                 kpa_business_plan.parse, kpa_business_plan.ISSUED, kpa_business_plan.BY,
                 kpa_business_plan.BODIES),
        Document(pcc_plan_2013.DOCUMENT, f"{pcc_plan_2013.DOCUMENT}.txt",
                 "Kent Police and Crime Plan 2013-17", pcc_plan_2013.parse,
                 pcc_plan_2013.ISSUED, pcc_plan_2013.BY, pcc_plan_2013.BODIES),
        Document(leicestershire_2010.DOCUMENT, f"{leicestershire_2010.DOCUMENT}.txt",
                 "Leicestershire Police Authority improvement plan, January 2010",
                 leicestershire_2010.parse, leicestershire_2010.ISSUED,
                 leicestershire_2010.BY, leicestershire_2010.BODIES),
        Document(panel_report_2016.DOCUMENT, f"{panel_report_2016.DOCUMENT}.txt",
                 "Kent and Medway Police and Crime Panel report, 8 September 2016",
                 panel_report_2016.parse, panel_report_2016.ISSUED, panel_report_2016.BY,
                 panel_report_2016.BODIES),
        Document(peel_2016.DOCUMENT, f"{peel_2016.DOCUMENT}.txt",
                 "HMIC PEEL 2016: Efficiency, Kent", peel_2016.parse, peel_2016.ISSUED,
                 peel_2016.BY, peel_2016.BODIES),
    ]
    documents.append(
        Document(kent_transition_2012.DOCUMENT, f"{kent_transition_2012.DOCUMENT}.txt",
                 "Kent transition of 22 November 2012 (curated)", kent_transition_2012.parse,
                 kent_transition_2012.ISSUED, kent_transition_2012.BY,
                 kent_transition_2012.BODIES)
    )
    documents.sort(key=lambda d: d.issued)  # the order in which the history happened
    return {d.key: d for d in documents}
