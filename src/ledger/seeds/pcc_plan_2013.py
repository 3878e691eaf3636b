"""Kent Police and Crime Plan 2013-17 (seed 001), the first Commissioner's plan: its finance.

Read here: the plan itself, the 2013/14 budget by subject area and its financing (stated in £m
to one decimal), the band D precept, the four-year savings profile and the table of crime and
disorder grants with its stated total. Every stated total becomes a TotalStated fact naming
the lines it claims to sum, for `ledger reconcile`. Also its promises, strategic priorities,
partnership objectives, the objectives listed under each, and the strategic performance
ambitions as targets: their March 2013 baseline cell is wrapped over five rows ("Figures /
Available / After / April 1st / 2013") and is kept as stated; no baseline figure is invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from ..services import Fact
from . import Parsed, ParseError, clean, fact

DOCUMENT = "001_5185d9c126115a94"
PLAN = "kent-police-and-crime-plan-2013-17"
BUDGET = "kent-pcc/2013-14"
PCC = "kent-pcc"
BY = ("ann-barnes", "commissioner", PCC)
ISSUED = "2013-04-01"
BODIES = [(PCC, "Office of the Kent Police and Crime Commissioner", "pcc_office", ISSUED)]
MILLION = Decimal(1_000_000)

_SUBTOTALS = {"Gross Police Service Spend", "Gross Police & Community Safety Spending", "Total"}
_MONEY = re.compile(r"^£([\d,]+)$")
_MILLIONS = re.compile(r"£([\d.]+)m")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _find(lines: list[str], start: str, after: int = 0) -> int:
    for number in range(after + 1, len(lines) + 1):
        if lines[number - 1].strip().startswith(start):
            return number
    raise ParseError(DOCUMENT, after or 1, f"no line starting '{start}'")


def parse(text: str) -> Parsed:
    lines = text.splitlines()
    findings: list[str] = []
    title = _find(lines, "The Kent Police & Crime Plan")
    facts = [
        fact("PlanDrafted", PLAN, ISSUED, by=BY, document=DOCUMENT,
             lines=f"lines {title}-{title + 1}", title="The Kent Police & Crime Plan 2013-2017",
             plan_type="police-and-crime-plan", period_from="2013-04-01",
             period_to="2017-03-31"),
        fact("BudgetDrafted", BUDGET, ISSUED, by=BY, document=DOCUMENT,
             lines=f"line {_find(lines, 'Policing Budget 2013/14')}", financial_year="2013-14",
             title="Policing Budget 2013/14"),
    ]
    totals: list[Fact] = []
    spending = _find(lines, "Kent Police Budget by Subject Area")
    financing = _find(lines, "Financed by", spending)
    end = next(n for n in range(financing + 1, len(lines) + 1) if not lines[n - 1].strip())
    groups: dict[str, list[str]] = {"expenditure": [], "financing": []}
    for number in range(spending + 1, end):
        if number == financing:
            continue
        cells = [c.strip() for c in lines[number - 1].split("\t")]
        if len(cells) != 3 or cells[1]:
            raise ParseError(DOCUMENT, number, "expected 'heading<TAB><TAB>£m' in the budget")
        heading = clean(cells[0]).lstrip("*")
        try:
            millions = Decimal(cells[2])
        except ArithmeticError:
            raise ParseError(DOCUMENT, number, f"'{cells[2]}' is not an amount in £m") from None
        category = "expenditure" if number < financing else "financing"
        if heading in _SUBTOTALS:
            what = "total financing" if category == "financing" else heading.lower()
            label = "Total financing" if category == "financing" else heading
            sums = list(groups[category])
            if heading == "Gross Police & Community Safety Spending":
                sums = list(groups["expenditure"])
            totals.append(_total(_slug(what), f"{label} 2013/14", millions, number, sums,
                                  unit="GBP million", precision=Decimal("0.1")))
            if heading == "Gross Police Service Spend":
                groups["police-service"] = list(groups["expenditure"])
            continue
        line = _slug(heading)
        groups[category].append(f"budget/{BUDGET}/line/{line}")
        facts.append(fact("BudgetLineSet", BUDGET, ISSUED, by=BY, document=DOCUMENT,
                          lines=f"line {number}", line=line, heading=heading,
                          category=category, amount=str(millions * MILLION)))
    stated_gross = _find(lines, "I am setting an annual budget")
    gross = _MILLIONS.search(lines[stated_gross - 1])
    if gross is None:
        raise ParseError(DOCUMENT, stated_gross, "no £m figure for the annual budget")
    totals.append(_total("annual-budget-in-text", "Gross spending 2013/14 stated in the text",
                         Decimal(gross.group(1)), stated_gross, groups["expenditure"],
                         unit="GBP million", precision=Decimal("0.1")))

    precept = _find(lines, "The annual policing precept for a band D")
    band_d = re.search(r"£(\d+\.\d{2})", lines[precept - 1])
    if band_d is None:
        raise ParseError(DOCUMENT, precept, "no band D figure")
    facts.append(fact("PreceptProposed", BUDGET, ISSUED, by=BY, document=DOCUMENT,
                      lines=f"line {precept}", band_d=band_d.group(1)))

    profile = _find(lines, "Expected savings requirements")
    years_line = next(n for n in range(profile + 1, len(lines)) if lines[n - 1].strip())
    years = lines[years_line - 1].split("\t")
    amounts = lines[years_line].split("\t")
    if len(years) != len(amounts):
        raise ParseError(DOCUMENT, years_line + 1, f"{len(years)} years but {len(amounts)} "
                                                   "amounts in the savings profile")
    savings = []
    for year, amount in zip(years, amounts, strict=True):
        found = re.fullmatch(r"(\d{4})/(\d{2})", year.strip())
        money = _MILLIONS.fullmatch(amount.strip())
        if not found or not money:
            raise ParseError(DOCUMENT, years_line + 1, f"cannot read '{year}' / '{amount}'")
        fy = f"{found.group(1)}-{found.group(2)}"
        savings.append(f"budget/{BUDGET}/savings/{fy}")
        facts.append(fact("SavingsRequirementSet", BUDGET, ISSUED, by=BY, document=DOCUMENT,
                          lines=f"lines {years_line}-{years_line + 1}", financial_year=fy,
                          amount=str(Decimal(money.group(1)) * MILLION)))
    stated_savings = _find(lines, "Based on current assumptions and an expected 20%")
    four_years = _MILLIONS.search(lines[stated_savings - 1])
    if four_years is None:
        raise ParseError(DOCUMENT, stated_savings, "no £m figure for the savings required")
    totals.append(_total("savings-2013-17", "Savings required over the life of the plan",
                         Decimal(four_years.group(1)), stated_savings, savings,
                         unit="GBP million", precision=Decimal("0.1")))

    facts += _items_and_ambitions(lines, findings)
    grants_facts, grant_refs, grants_total = _grants(lines, findings)
    facts += grants_facts
    totals.append(grants_total)
    totals.append(_total("grants-in-budget", "Grants Awarded by the Commissioner (budget line)",
                         Decimal("1.8"), _find(lines, "Grants Awarded by the Commissioner"),
                         grant_refs, unit="GBP million", precision=Decimal("0.1")))
    return Parsed(facts + totals, findings)


def _total(check: str, what: str, amount: Decimal, line: int, sums: list[str], *,
           unit: str = "GBP", precision: Decimal = Decimal("1")) -> Fact:
    return fact("TotalStated", DOCUMENT, ISSUED, by=BY, document=DOCUMENT, lines=f"line {line}",
                check=check, what=what, amount=str(amount), unit=unit,
                precision=str(precision), sums=sums)


def _grants(lines: list[str], findings: list[str]) -> tuple[list[Fact], list[str], Fact]:
    header = _find(lines, "Organisation\tGrant\tPurpose of Grant")
    facts: list[Fact] = []
    refs: list[str] = []
    group_purpose: str | None = None
    for number, (organisation, amount, purpose) in _rows(lines, header):
        if organisation.upper().startswith("TOTAL"):
            money = _MONEY.match(amount)
            if not money:
                raise ParseError(DOCUMENT, number, f"'{amount}' is not an amount")
            return facts, refs, _total("grants-table", "Total grant funding 2013/14",
                                       Decimal(money.group(1).replace(",", "")), number, refs)
        if amount == "Provisional":  # a group heading: the rows below share its purpose
            group_purpose = purpose
            continue
        money = _MONEY.match(amount)
        if not amount:
            findings.append(f"line {number}: '{organisation}' is listed with no amount; "
                            "not recorded as an award")
            continue
        if not money:
            raise ParseError(DOCUMENT, number, f"'{amount}' is not an amount in £")
        conditions = ""
        if not purpose and group_purpose is not None:
            purpose, conditions = group_purpose, "provisional"
        else:
            group_purpose = None  # a row with its own purpose ends the group
            if not purpose:
                findings.append(f"line {number}: no purpose stated for '{organisation}'")
                purpose = "not stated in the plan"
        key = f"kent-pcc/grant/2013-14/{_slug(organisation)}"
        refs.append(f"grant/{key}")
        facts.append(fact("GrantAwarded", key, ISSUED, by=BY, document=DOCUMENT,
                          lines=f"line {number}", recipient=organisation,
                          amount=money.group(1).replace(",", ""), purpose=purpose,
                          conditions=conditions, funding_body=PCC, plan=PLAN))
    raise ParseError(DOCUMENT, len(lines), "the grants table has no TOTAL row")


def _rows(lines: list[str], header: int) -> Iterator[tuple[int, list[str]]]:
    """The three-cell rows of the table under ``header``, up to the first blank line."""
    for number in range(header + 1, len(lines) + 1):
        cells = [c.strip() for c in lines[number - 1].split("\t")]
        if cells == [""]:
            return
        if len(cells) != 3:
            raise ParseError(DOCUMENT, number, f"expected 3 tab-separated cells, found "
                                               f"{len(cells)}")
        yield number, cells


def _dash_list(lines: list[str], after: int) -> list[tuple[int, str]]:
    """The '- ' items following line ``after``; stray fragments between items are skipped,
    a line of prose ends the list."""
    items: list[tuple[int, str]] = []
    for number in range(after + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if line.startswith("- "):
            items.append((number, clean(line[2:])))
        elif items and len(line) > 40:
            break
    return items


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("’", "'")).strip()


def _items_and_ambitions(lines: list[str], findings: list[str]) -> list[Fact]:
    facts: list[Fact] = []

    def item(number: int, key: str, kind: str, title: str, parent: str | None = None,
             ordinal: str = "") -> None:
        facts.append(fact("PlanItemAdded", PLAN, ISSUED, by=BY, document=DOCUMENT,
                          lines=f"line {number}", item=key, item_kind=kind, parent=parent,
                          number=ordinal, title=title))

    for n, (number, text) in enumerate(
        _dash_list(lines, _find(lines, "My Promises to You:")), start=1
    ):
        item(number, f"promise-{n}", "promise", text, ordinal=str(n))
    priorities = _dash_list(lines, _find(lines, "In order to achieve this vision"))
    for n, (number, text) in enumerate(priorities, start=1):
        item(number, f"priority-{n}", "priority", text, ordinal=str(n))
    partnership = _dash_list(lines, _find(lines, "I am also committed to working closely"))
    for n, (number, text) in enumerate(partnership, start=1):
        item(number, f"partnership-{n}", "objective", text, ordinal=str(n))
    # Each priority, then each partnership objective, has a section whose list begins "To
    # deliver against this priority": the sections follow the order of the two lists (their
    # headings are reworded, e.g. 'We will deliver "Value for YOUR Money"').
    owners = [f"priority-{n}" for n in range(1, len(priorities) + 1)] + [
        f"partnership-{n}" for n in range(1, len(partnership) + 1)]
    blocks = [n for n, line in enumerate(lines, start=1)
              if line.strip().startswith("To deliver against this priority")]
    if len(blocks) != len(owners):
        raise ParseError(DOCUMENT, blocks[-1] if blocks else 1,
                         f"{len(blocks)} objective lists for {len(owners)} priorities and "
                         "partnership objectives")
    for owner, block in zip(owners, blocks, strict=True):
        for n, (at, text) in enumerate(_dash_list(lines, block), start=1):
            item(at, f"{owner}/objective-{n}", "objective", text, parent=owner,
                 ordinal=str(n))
    table = _find(lines, "Strategic Performance Measure\t")
    rows = list(_rows(lines, table))
    baseline = " ".join(cells[1] for _, cells in rows)
    item(table, "ambitions", "ambition", "Strategic Performance Ambitions 2013-17")
    for n, (number, (measure, _, ambition)) in enumerate(rows, start=1):
        figure = re.fullmatch(r"(\d+(?:\.\d+)?)%", ambition)
        if not figure:
            raise ParseError(DOCUMENT, number, f"'{ambition}' is not a percentage ambition")
        facts.append(fact(
            "TargetSet", f"{PLAN}/ambition-{n}", ISSUED, by=BY, document=DOCUMENT,
            lines=f"lines {table}-{rows[-1][0]}" if n == 1 else f"line {number}", plan=PLAN,
            item="ambitions", title=measure, value=figure.group(1), unit="percent",
            measure=f"March 2017 ambition; March 2013 baseline: {baseline}",
        ))
    return facts
