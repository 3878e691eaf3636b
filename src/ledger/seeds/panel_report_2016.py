"""Kent and Medway Police and Crime Panel report of 8 September 2016 (seed 003) on the
Commissioner's updated Police and Crime Plan 2016/17: the draft update, the Panel's report
with its decision, and every figure the report cites (with its paragraph).

The report does not name the Commissioner (Matthew Scott from May 2016, per the domain notes);
the acting office is recorded, not a person.
"""

from __future__ import annotations

import re

from . import Parsed, ParseError, clean, fact

DOCUMENT = "003_1f776202261b823d"
PLAN = "kent-police-and-crime-plan-2016-17-update"
PANEL = "kent-and-medway-police-and-crime-panel"
PCC = "kent-pcc"
BY = (PANEL, "panel_member", PANEL)
COMMISSIONER = ("kent-pcc-commissioner", "commissioner", PCC)
ISSUED = "2016-09-08"
BODIES = [(PANEL, "Kent and Medway Police and Crime Panel", "police_and_crime_panel", ISSUED),
          (PCC, "Office of the Kent Police and Crime Commissioner", "pcc_office", ISSUED)]

_PARAGRAPH = re.compile(r"^(\d+)\. (.*)$")


def parse(text: str) -> Parsed:
    lines = text.splitlines()
    subject = next((n for n, line in enumerate(lines, start=1) if line.startswith("SUBJECT:")),
                   None)
    dated = next((n for n, line in enumerate(lines, start=1) if line.startswith("Date:")), None)
    decision = next((n for n, line in enumerate(lines, start=1)
                     if line.strip() == "PANEL DECISION"), None)
    if subject is None or dated is None or decision is None:
        raise ParseError(DOCUMENT, 1, "expected SUBJECT:, Date: and PANEL DECISION lines")
    if "8th September 2016" not in lines[dated - 1]:
        raise ParseError(DOCUMENT, dated, "expected the report date 8th September 2016")
    provided = next((n for n, line in enumerate(lines, start=1)
                     if "were provided with the Commissioner's draft" in line), None)
    if provided is None:
        raise ParseError(DOCUMENT, 1, "the report does not say the Panel received the draft")
    verdict = next(n for n in range(decision + 1, len(lines) + 1) if lines[n - 1].strip())
    cited = []
    for number, line in enumerate(lines, start=1):
        paragraph = _PARAGRAPH.match(line.strip())
        if not paragraph:
            continue
        for figure in re.findall(r"£[\d,.]+m?|\b\d{2,}\b", paragraph.group(2)):
            if figure in ("2011", "2016", "17"):  # the Act's year and the plan's years
                continue
            cited.append(f"{figure} (para {paragraph.group(1)}, line {number})")
    summary = (f"{clean(lines[verdict - 1])} Figures cited: {'; '.join(cited)}."
               if cited else clean(lines[verdict - 1]))
    title = clean(lines[subject - 1].removeprefix("SUBJECT:"))
    facts = [
        fact("PlanDrafted", PLAN, ISSUED, by=COMMISSIONER, document=DOCUMENT,
             lines=f"lines {subject}, {provided}", title=title, plan_type="police-and-crime-plan",
             period_from="2016-04-01", period_to="2017-03-31"),
        fact("PlanSentToPanel", PLAN, ISSUED, by=COMMISSIONER, document=DOCUMENT,
             lines=f"line {provided}", panel=PANEL),
        fact("PanelReportReceived", PLAN, ISSUED, by=BY, document=DOCUMENT,
             lines=f"lines {dated}-{verdict}", panel=PANEL, summary=summary),
    ]
    return Parsed(facts, [])
