"""The seed documents become events: counts and figures below were read off the documents by
hand, not taken from the importer."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from ledger.domain import DomainError
from ledger.importer import documents, import_document
from ledger.seeds import ParseError, registry
from ledger.services import Ledger

KPA, PEEL = "000_936d9d2f2833dd1e", "004_a25a0cbce833cd66"


def parsed(key: str) -> list:
    document = registry()[key]
    return document.parse(document.text()).facts


def test_kpa_business_plan_sections_and_deliverables() -> None:
    facts = parsed(KPA)
    sections = [f.fields["title"] for f in facts if f.fields.get("item_kind") == "section"]
    assert sections == ["Setting strategic direction and priorities",
                        "Supporting performance improvement",
                        "Achieving results through consultation, collaboration and partnership",
                        "Delivering value for money and productivity"]
    deliverables = [f for f in facts if f.type == "DeliverableAdded"]
    per_section = Counter(f.key.split("/")[1].split(".")[0] for f in deliverables)
    assert per_section == {"1": 23, "2": 10, "3": 6, "4": 6}
    descriptors = [f for f in facts if f.fields.get("item_kind") == "descriptor"]
    assert [d.fields["parent"] for d in descriptors] == ["s1"] * 4 + ["s2", "s3", "s4"]
    by_key = {f.key.split("/")[1]: f.fields for f in deliverables}
    assert (by_key["1.1.2"]["deadline"], by_key["1.1.2"]["risk_links"],
            by_key["1.1.2"]["source"]["location"]) == ("Ongoing, June 2011", ["kpa02", "kpa34"],
                                                      "line 48")
    assert (by_key["1.1.8"]["lead"], by_key["1.1.8"]["due_on"]) == ("Treasurer", "2012-05-31")
    assert by_key["1.1.10"]["lead"] == "Chief Executive, Treasurer, PS policy officer,"
    assert by_key["1.1.11"]["risk_links"] == ["kpa10", "kpa11"]  # a <p> cell, third paragraph
    assert by_key["2.1.8"]["source"]["location"] == "line 85"  # after a blank line in a table
    assert by_key["4.1.6"]["source"]["location"] == "line 107"
    extended = [f for f in facts if f.type == "PlanExtended"]
    assert [f.fields["period_to"] for f in extended] == ["2012-11-21"]


def test_kpa_line_60_risk_codes_are_a_finding_not_a_guess() -> None:
    document = registry()[KPA]
    result = document.parse(document.text())
    assert len(result.findings) == 1 and result.findings[0].startswith("line 60: 4 deliverables")
    row = [f for f in result.facts if f.fields.get("source", {}).get("location") == "line 60"
           and f.type == "DeliverableAdded"]
    assert len(row) == 4 and all(f.fields["risk_links"] == [] for f in row)


def test_peel_2016_grades() -> None:
    facts = parsed(PEEL)
    grades = [(f.fields["question"][:2], f.fields["grade"]) for f in facts
              if f.type == "InspectionGraded"]
    assert grades == [("ov", "good"), ("1.", "outstanding"), ("2.", "good"), ("3.", "good")]
    (reported,) = [f for f in facts if f.type == "InspectionReported"]
    assert reported.fields["published_on"] == "2016-11-03"


def test_import_is_idempotent_and_counts(service: Ledger) -> None:
    first = [import_document(service, d) for d in documents()]
    # in the order the history happened; bodies are established by the first that needs them
    assert [(i.document, i.added) for i in first] == [
        ("002_1069deafa1a3e593", 3 + 1 + 78), (KPA, 1 + 1 + 59),
        ("900_kent_transition_2012", 1 + 1 + 3), ("001_5185d9c126115a94", 0 + 1 + 144),
        ("003_1f776202261b823d", 1 + 1 + 3), (PEEL, 1 + 1 + 5)]
    head = service.chain.head()
    again = [import_document(service, d) for d in documents()]
    assert all(i.already and i.added == 0 for i in again)
    assert service.chain.head() == head
    plan = service.get("plan", "kpa-business-plan-2011-12")
    assert plan is not None and str(plan.period_to) == "2012-11-21"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "corrupt", "line", "words"),
    [
        (KPA, lambda lines: lines.__setitem__(65, lines[65].replace("\t", " ", 1)), 66,
         "expected 6 tab-separated cells"),
        (KPA, lambda lines: lines.__setitem__(77, lines[77].replace("\t2. ", "\tTwo. ", 1)), 78,
         "deliverable without a number"),
        (PEEL, lambda lines: lines.__setitem__(25, "Superb"), 26, "is not a grade"),
        ("001_5185d9c126115a94", lambda lines: lines.__setitem__(
            662, lines[662].replace("\t", " ", 1)), 663, "expected 3 tab-separated cells"),
        ("001_5185d9c126115a94", lambda lines: lines.__setitem__(
            536, lines[536].replace("79.6", "79,6")), 537, "is not an amount"),
        ("002_1069deafa1a3e593", lambda lines: lines.__setitem__(17, lines[17] + "\textra"), 18,
         "expected 3 tab-separated cells"),
        ("003_1f776202261b823d", lambda lines: lines.__setitem__(6, "Date: sometime in 2016"), 7,
         "expected the report date"),
        ("900_kent_transition_2012", lambda lines: lines.__setitem__(
            4, lines[4].replace("\t", " ", 1)), 5, "expected 'what"),
    ],
)
def test_a_broken_row_adds_nothing_and_names_the_line(
    service: Ledger, key: str, corrupt, line: int, words: str
) -> None:
    document = registry()[key]
    lines = document.text().splitlines()
    corrupt(lines)
    broken = replace(document, filename=document.filename)
    text = "\n".join(lines)
    object.__setattr__(broken, "text", lambda: text)
    before = service.chain.head()
    with pytest.raises(ParseError) as error:
        import_document(service, broken)
    assert (error.value.line, words in error.value.problem) == (line, True), error.value
    assert service.chain.head() == before


def test_a_changed_text_of_an_imported_document_is_refused(service: Ledger) -> None:
    document = registry()[PEEL]
    import_document(service, document)
    changed = replace(document)
    object.__setattr__(changed, "text", lambda: document.text() + "\nextra")
    with pytest.raises(DomainError, match="another text"):
        import_document(service, changed)


PCC = "001_5185d9c126115a94"


def test_pcc_plan_budget_savings_precept_and_grants() -> None:
    document = registry()[PCC]
    result = document.parse(document.text())
    facts = result.facts
    lines = {f.fields["line"]: f.fields for f in facts if f.type == "BudgetLineSet"}
    spending = [k for k, v in lines.items() if v["category"] == "expenditure"]
    financing = [k for k, v in lines.items() if v["category"] == "financing"]
    assert (len(spending), len(financing)) == (9, 4)  # lines 522-528, 530-531; 534-537
    assert lines["police-officer-pay"]["amount"] == "178500000.0"
    assert lines["council-tax-precept"]["amount"] == "79600000.0"
    savings = [(f.fields["financial_year"], f.fields["amount"]) for f in facts
               if f.type == "SavingsRequirementSet"]
    assert savings == [("2013-14", "8600000.0"), ("2014-15", "11900000.0"),
                       ("2015-16", "18100000.0"), ("2016-17", "14600000.0")]
    assert [f.fields["band_d"] for f in facts if f.type == "PreceptProposed"] == ["141.47"]
    grants = [f for f in facts if f.type == "GrantAwarded"]
    assert len(grants) == 26  # 27 organisations listed; Crimestoppers Trust has no amount
    assert sum(int(g.fields["amount"]) for g in grants) == 1_765_068
    by_name = {g.fields["recipient"]: g.fields for g in grants}
    assert by_name["Maidstone"]["amount"] == "40387"
    assert by_name["Maidstone"]["conditions"] == "provisional"
    assert by_name["Kent Drug and Alcohol Action Team"]["amount"] == "328132"
    assert by_name["Kent Criminal Justice Board"]["source"]["location"] == "line 677"
    assert len(result.findings) == 3  # two grants with no purpose, one with no amount


def test_reconciliation_reports_every_stated_total(service: Ledger) -> None:
    from ledger.reconcile import reconcile

    for document in documents():
        import_document(service, document)
    checks = {c.check: (c.stated, c.computed, c.difference, c.source)
              for c in reconcile(service)}
    assert checks == {
        "gross-police-service-spend": ("313.4", "313.4", "0.0", "line 529"),
        "gross-police-community-safety-spending": ("316.7", "316.7", "0.0", "line 532"),
        "total-financing": ("316.7", "316.8", "0.1", "line 538"),
        "annual-budget-in-text": ("316.7", "316.7", "0.0", "line 519"),
        "savings-2013-17": ("53.2", "53.2", "0.0", "line 582"),
        "grants-table": ("1765069", "1765068", "-1", "line 678"),
        "grants-in-budget": ("1.8", "1.8", "0.0", "line 531"),
    }


LEICS = "002_1069deafa1a3e593"


def test_leicestershire_points_actions_links_and_the_comment() -> None:
    facts = parsed(LEICS)
    points = {f.fields["point"]: f.fields for f in facts if f.type == "AreaForImprovementRaised"}
    assert sorted(p for p in points if p.isdigit()) == sorted(str(n) for n in range(1, 28))
    assert "overarching" in points
    assert [p for p, f in points.items() if not f.get("is_area_for_improvement", True)] == ["10"]
    assert points["1"]["paragraph"] == "Para 16" and points["3"]["paragraph"] == "Para 17"
    assert points["3"]["refers_to"] == ["1", "2"]
    for point, target in (("12", "11"), ("14", "11"), ("19", "18"), ("21", "22"),
                          ("24", "23"), ("25", "22")):
        assert target in points[point]["refers_to"], point
    actions = [f.fields for f in facts if f.type == "ImprovementActionPlanned"]
    by_point = Counter(a["point"] for a in actions)
    assert (by_point["1"], by_point["3"], by_point["10"], by_point["23"]) == (2, 0, 0, 5)
    first = next(a for a in actions if a["action"] == "1.short.i")
    assert (first["owner"], first["due"], first["due_on"]) == (
        "Mr Render / Performance Panel", "31 March 2010", "2010-03-31")
    assert all(a["owner"] == "Treasurer" for a in actions if a["action"].startswith("23.short"))
    reported = next(f for f in facts if f.type == "InspectionReported")
    assert reported.fields["published_on"] == "2010-01-15"


def test_pcc_plan_promises_priorities_objectives_and_ambitions() -> None:
    facts = parsed(PCC)
    items = [f.fields for f in facts if f.type == "PlanItemAdded"]
    kinds = Counter(i["item_kind"] for i in items if i["parent"] is None)
    assert (kinds["promise"], kinds["priority"], kinds["objective"]) == (10, 6, 3)
    under = Counter(i["parent"] for i in items if i["parent"])
    assert (under["priority-1"], under["priority-2"], under["partnership-1"],
            under["partnership-2"], under["partnership-3"]) == (9, 10, 9, 7, 5)
    ambitions = [(f.fields["title"], f.fields["value"]) for f in facts if f.type == "TargetSet"]
    assert ambitions == [("Reduce the level of victim-based crime by", "8"),
                         ("Proportion of crimes resolved", "37"),
                         ("Public Satisfaction with Kent Police", "80"),
                         ("Overall satisfaction level of victims of crime with the service", "90"),
                         ("Overall satisfaction of those who report ASB", "85")]
    assert all(f.fields["measure"].endswith("baseline: Figures Available After April 1st 2013")
               for f in facts if f.type == "TargetSet")


def test_panel_report_2016_cites_its_figures() -> None:
    facts = parsed("003_1f776202261b823d")
    report = next(f for f in facts if f.type == "PanelReportReceived")
    assert report.fields["summary"].startswith("That the Panel supports the updated Police")
    for figure in ("£146,000 (para 3", "24 (para 7", "£258m (para 8", "£5m (para 8",
                   "£1m (para 8", "3260 (para 9", "300 (para 9"):
        assert figure in report.fields["summary"]
    assert report.fields["effective_at"] == "2016-09-08"
