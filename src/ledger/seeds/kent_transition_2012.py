"""The Kent transition of 22 November 2012, as a small curated record (document 900).

The five seed documents do not state the handover itself: the KPA plan assumed May 2012, the
PCC plan gives the election date. The curated text cites where each date comes from; each of
its rows becomes a fact. Outcomes of the Authority's open commitments are not in any source,
so none is recorded: the transition history shows them as open at transfer.
"""

from __future__ import annotations

from . import Parsed, ParseError, fact

DOCUMENT = "900_kent_transition_2012"
KPA, PCC = "kent-police-authority", "kent-pcc"
BY = ("ann-barnes", "commissioner", PCC)
ISSUED = "2012-11-22"
BODIES = [(KPA, "Kent Police Authority", "police_authority", "2011-03-01"),
          (PCC, "Office of the Kent Police and Crime Commissioner", "pcc_office", ISSUED)]
ROWS = ("election", "last-meeting", "took-office", "transfer")


def parse(text: str) -> Parsed:
    rows = {}
    for number, line in enumerate(text.splitlines(), start=1):
        cells = line.split("\t")
        if len(cells) == 1:
            continue
        if len(cells) != 4 or cells[0] not in ROWS:
            raise ParseError(DOCUMENT, number, "expected 'what<TAB>date<TAB>fact<TAB>sources'")
        rows[cells[0]] = (number, cells[1], cells[2])
    missing = [r for r in ROWS if r not in rows]
    if missing:
        raise ParseError(DOCUMENT, len(text.splitlines()), f"no row for {', '.join(missing)}")
    election, took_office, transfer = rows["election"], rows["took-office"], rows["transfer"]
    last_meeting = rows["last-meeting"]
    facts = [
        fact("OfficeTermStarted", "kent-pcc/2012-ann-barnes", took_office[1], by=BY,
             document=DOCUMENT, lines=f"lines {election[0]}, {took_office[0]}",
             office_body=PCC, office="Police and Crime Commissioner", holder="Ann Barnes",
             elected_on=election[1]),
        fact("ResponsibilityTransferred", "kpa-to-kent-pcc-2012", transfer[1],
             by=(KPA, "authority_member", KPA), document=DOCUMENT, lines=f"line {transfer[0]}",
             from_body=KPA, to_body=PCC, responsibility=transfer[2],
             legal_basis="Police Reform and Social Responsibility Act 2011, Schedule 15"),
        fact("BodyAbolished", KPA, transfer[1], by=(KPA, "authority_member", KPA),
             document=DOCUMENT, lines=f"lines {last_meeting[0]}, {transfer[0]}",
             reason="the Police Reform and Social Responsibility Act 2011 replaced the Authority "
             "with the Commissioner; its last meeting was on " + last_meeting[1]),
    ]
    return Parsed(facts, [])
