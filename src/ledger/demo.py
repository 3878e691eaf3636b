"""A short sample history (Kent, 2011-2016) using every event type, for the demo store and tests.

Figures and dates follow the seed documents where they speak; the rest is illustrative and its
source says so. Until the seed import exists this is what the main job records.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .integrity.signatures import public_key_text
from .seeds import registry
from .services import Fact, Ledger, Recorded

KPA = "kent-police-authority"
PCC = "kent-pcc"
PANEL = "kent-and-medway-police-and-crime-panel"
HMIC = "hmic"
FORCE = "kent-police"
KPA_PLAN = "kpa-business-plan-2011-12"
PCC_PLAN = "kent-police-and-crime-plan-2013-17"
SEED_KPA = "000_936d9d2f2833dd1e"
SEED_PCC = "001_5185d9c126115a94"
SEED_PANEL = "003_1f776202261b823d"
SEED_PEEL = "004_a25a0cbce833cd66"
DEMO = "demo-sample"
CONFIDENTIAL_DECISION = "kpcc-002-2013"


def demo_public_key(actor: str) -> str:
    """A sample actor's public key: fixed, from its name, so the sample is the same each time
    (a sample; these actors never sign anything)."""
    seed = hashlib.sha256(f"ledger-demo-key:{actor}".encode()).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return public_key_text(public)


def _fact(
    type_: str,
    key: str,
    effective_at: str,
    *,
    by: tuple[str, str, str],
    source: tuple[str, str],
    kind: str | None = None,
    **fields: Any,
) -> Fact:
    actor, role, body = by
    envelope = {
        "actor": actor,
        "role": role,
        "body": body,
        "effective_at": effective_at,
        "source": {"document": source[0], "location": source[1]},
    }
    return Fact(type=type_, key=key, kind=kind, fields={**envelope, **fields})


KPA_CE = ("kpa-chief-executive", "chief_executive", KPA)
KPA_TREASURER = ("kpa-treasurer", "treasurer", KPA)
ANN_BARNES = ("ann-barnes", "commissioner", PCC)
PCC_CE = ("kent-pcc-chief-executive", "chief_executive", PCC)
PCC_CFO = ("kent-pcc-chief-finance-officer", "chief_finance_officer", PCC)
PCC_OFFICER = ("kent-pcc-policy-officer", "officer", PCC)
PANEL_CHAIR = ("kent-panel-chair", "panel_member", PANEL)
INSPECTOR = ("hmic-inspector", "inspector", HMIC)
PCC_ADMIN = ("kent-pcc-admin", "administrator", PCC)


def sample_history() -> list[Fact]:
    """The facts in the order an officer would record them."""
    f = _fact
    KPA_TEXT = registry()[SEED_KPA]  # noqa: N806
    return [
        f(
            "BodyEstablished",
            KPA,
            "1995-04-01",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            name="Kent Police Authority",
            body_type="police_authority",
            area="Kent and Medway",
        ),
        f(
            "BodyEstablished",
            FORCE,
            "1857-01-01",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            name="Kent Police",
            body_type="force",
            area="Kent and Medway",
        ),
        f(
            "BodyEstablished",
            HMIC,
            "1856-01-01",
            by=INSPECTOR,
            source=(DEMO, "illustrative"),
            name="HM Inspectorate of Constabulary",
            body_type="inspectorate",
        ),
        f(
            "PlanDrafted",
            KPA_PLAN,
            "2011-03-01",
            by=KPA_CE,
            source=(SEED_KPA, "lines 1-10"),
            title="Kent Police Authority Business Plan March 2011 - May 2012",
            plan_type="business-plan",
            period_from="2011-03-01",
            period_to="2012-05-31",
        ),
        f(
            "PlanItemAdded",
            KPA_PLAN,
            "2011-03-01",
            by=KPA_CE,
            source=(SEED_KPA, "line 49"),
            item="s1",
            item_kind="section",
            number="1",
            title="Setting strategic direction and priorities",
        ),
        f("PlanIssued", KPA_PLAN, "2011-03-01", by=KPA_CE, source=(SEED_KPA, "line 1")),
        f(
            "DeliverableAdded",
            f"{KPA_PLAN}/1.5",
            "2011-03-01",
            by=KPA_CE,
            source=(SEED_KPA, "line 57"),
            plan=KPA_PLAN,
            item="s1",
            number="5",
            title="Engagement with Commissioner-elect to ensure smooth handover of governance",
            lead="Chief Executive",
            measure="KPA staff involved in handover to PCC",
            deadline="May 2012",
            due_on="2012-05-31",
            risk_links=["kpa34"],
        ),
        f(
            "DeliverableAdded",
            f"{KPA_PLAN}/1.8",
            "2011-03-01",
            by=KPA_CE,
            source=(SEED_KPA, "line 60"),
            plan=KPA_PLAN,
            item="s1",
            number="8",
            title="Design an assets and liabilities transfer scheme",
            lead="Treasurer",
            measure="Completed transfer scheme",
            deadline="May 2012",
            due_on="2012-05-31",
            risk_links=["kpa34"],
        ),
        f(
            "DeliverableAdded",
            f"{KPA_PLAN}/1.6",
            "2011-03-01",
            by=KPA_CE,
            source=(SEED_KPA, "line 58"),
            plan=KPA_PLAN,
            item="s1",
            number="6",
            title="Ensure effective capture of organisational knowledge",
            lead="Policy Officers",
            measure="Policy officers able to brief PCC on key PA issues",
            deadline="May 2012",
        ),
        f(
            "DeliverableStatusChanged",
            f"{KPA_PLAN}/1.5",
            "2011-09-01",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            status="in_progress",
            reason="handover planning started",
        ),
        f(
            "PlanExtended",
            KPA_PLAN,
            "2012-05-01",
            by=KPA_CE,
            source=(SEED_KPA, "line 9"),
            period_to="2012-11-21",
            reason="plan extended to cover the period of transfer to the Commissioner",
        ),
        f(
            "DeliverableLeadAssigned",
            f"{KPA_PLAN}/1.8",
            "2012-06-01",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            lead="Treasurer and Chief Executive",
            reason="scheme needs the Chief Executive's sign-off as well",
        ),
        f(
            "DeliverableDeadlineChanged",
            f"{KPA_PLAN}/1.8",
            "2012-06-01",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            deadline="November 2012",
            due_on="2012-11-21",
            reason="first elections moved to 15 November 2012",
        ),
        f(
            "BodyEstablished",
            PCC,
            "2012-11-22",
            by=ANN_BARNES,
            source=(DEMO, "PRSRA 2011 s.1"),
            name="Office of the Kent Police and Crime Commissioner",
            body_type="pcc_office",
            area="Kent and Medway",
        ),
        f(
            "BodyEstablished",
            PANEL,
            "2012-11-22",
            by=PANEL_CHAIR,
            source=(DEMO, "PRSRA s.28"),
            name="Kent and Medway Police and Crime Panel",
            body_type="police_and_crime_panel",
        ),
        f(
            "OfficeTermStarted",
            "kent-pcc/2012-ann-barnes",
            "2012-11-22",
            by=ANN_BARNES,
            source=(DEMO, "DOMAIN.md"),
            office_body=PCC,
            office="Police and Crime Commissioner",
            holder="Ann Barnes",
            elected_on="2012-11-15",
        ),
        f(
            "ResponsibilityTransferred",
            "kpa-to-kent-pcc-2012",
            "2012-11-22",
            by=KPA_TREASURER,
            source=(DEMO, "PRSRA 2011 Schedule 15"),
            from_body=KPA,
            to_body=PCC,
            responsibility="Property, rights and liabilities of the Police Authority",
            legal_basis="Police Reform and Social Responsibility Act 2011, Schedule 15",
        ),
        f(
            "DeliverableCarriedOver",
            f"{KPA_PLAN}/1.8",
            "2012-11-22",
            by=KPA_TREASURER,
            source=(DEMO, "illustrative"),
            to_body=PCC,
            reason="second-stage transfer scheme continues under the Commissioner",
        ),
        f(
            "DeliverableStatusChanged",
            f"{KPA_PLAN}/1.5",
            "2012-11-21",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            status="completed",
            reason="handover completed",
        ),
        f(
            "DeliverableLapsed",
            f"{KPA_PLAN}/1.6",
            "2012-11-22",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            reason="the Authority ceased to exist",
        ),
        f(
            "BodyAbolished",
            KPA,
            "2012-11-22",
            by=KPA_CE,
            source=(DEMO, "PRSRA 2011 s.2"),
            reason="abolished by the Police Reform and Social Responsibility Act 2011",
        ),
        f(
            "PlanDrafted",
            PCC_PLAN,
            "2013-01-15",
            by=ANN_BARNES,
            source=(SEED_PCC, "lines 1-5"),
            title="Police and Crime Plan 2013-17",
            plan_type="police-and-crime-plan",
            period_from="2013-04-01",
            period_to="2017-03-31",
        ),
        f(
            "PlanSuperseded",
            KPA_PLAN,
            "2012-11-22",
            by=KPA_CE,
            source=(DEMO, "illustrative"),
            by_plan=PCC_PLAN,
            reason="replaced by the Commissioner's plan",
        ),  # retracted later
        f(
            "PlanSentToPanel",
            PCC_PLAN,
            "2013-02-01",
            by=ANN_BARNES,
            source=(DEMO, "PRSRA s.5"),
            panel=PANEL,
        ),
        f(
            "PanelReportReceived",
            PCC_PLAN,
            "2013-02-15",
            by=PANEL_CHAIR,
            source=(DEMO, "illustrative"),
            panel=PANEL,
            summary="The Panel supports the draft plan with recommendations",
        ),
        f("PlanIssued", PCC_PLAN, "2013-04-01", by=ANN_BARNES, source=(SEED_PCC, "line 1")),
        f(
            "PlanItemAdded",
            PCC_PLAN,
            "2013-04-01",
            by=ANN_BARNES,
            source=(SEED_PCC, "illustr."),
            item="ambitions",
            item_kind="ambition",
            title="Strategic ambitions",
        ),
        f(
            "TargetSet",
            "kent-pcc/victim-based-crime",
            "2013-04-01",
            by=ANN_BARNES,
            source=(SEED_PCC, "illustrative"),
            plan=PCC_PLAN,
            item="ambitions",
            title="Reduce victim-based crime",
            measure="recorded victim-based crime",
            value="-5",
            unit="percent",
        ),
        f(
            "BaselineRecorded",
            "kent-pcc/victim-based-crime",
            "2014-03-31",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            value="92000",
            period="2013-14",
        ),
        f(
            "TargetRevised",
            "kent-pcc/victim-based-crime",
            "2014-04-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            old_value="-5",
            new_value="-3",
            reason="baseline higher than assumed after crime recording audit",
        ),
        f(
            "TargetRevised",
            "kent-pcc/victim-based-crime",
            "2015-04-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            old_value="-3",
            new_value="-2",
            reason="national change in recording practice",
        ),
        f(
            "OutcomeMeasured",
            "kent-pcc/victim-based-crime",
            "2015-03-31",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            value="-1.5",
            period="2014-15",
        ),
        f(
            "BudgetDrafted",
            "kent-pcc/2013-14",
            "2013-02-01",
            by=PCC_CFO,
            source=(SEED_PCC, "illustrative"),
            financial_year="2013-14",
            title="Budget 2013/14",
        ),
        f(
            "BudgetLineSet",
            "kent-pcc/2013-14",
            "2013-02-01",
            by=PCC_CFO,
            source=(DEMO, "illustrative"),
            line="police-pay",
            heading="Police officer pay",
            category="expenditure",
            amount="150000000.00",
        ),
        f(
            "SavingsRequirementSet",
            "kent-pcc/2013-14",
            "2013-02-01",
            by=PCC_CFO,
            source=(DEMO, "illustrative"),
            financial_year="2013-14",
            amount="20000000.00",
        ),
        f(
            "PreceptProposed",
            "kent-pcc/2013-14",
            "2013-02-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            band_d="140.00",
        ),
        f(
            "PreceptReviewed",
            "kent-pcc/2013-14",
            "2013-02-05",
            by=PANEL_CHAIR,
            source=(DEMO, "illustrative"),
            panel=PANEL,
            outcome="Panel vetoed the proposal",
        ),
        f(
            "PreceptVetoed",
            "kent-pcc/2013-14",
            "2013-02-05",
            by=PANEL_CHAIR,
            source=(DEMO, "illustrative"),
            panel=PANEL,
            reason="two-thirds majority against",
        ),
        f(
            "PreceptProposed",
            "kent-pcc/2013-14",
            "2013-02-12",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            band_d="138.00",
        ),
        f(
            "PreceptReviewed",
            "kent-pcc/2013-14",
            "2013-02-14",
            by=PANEL_CHAIR,
            source=(DEMO, "illustrative"),
            panel=PANEL,
            outcome="Panel supports the precept",
        ),
        f(
            "PreceptIssued",
            "kent-pcc/2013-14",
            "2013-02-20",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            band_d="138.00",
        ),
        f(
            "DecisionRecorded",
            "kpcc-001-2013",
            "2013-05-01",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            title="Community safety grants 2013/14",
            originator="Kent PCC policy officer",
            executive_summary="Grants to partners",
            recommendation="Approve the grants",
            decision="The grants are approved",
            financial_advice="Within budget",
            legal_advice="Lawful under PRSRA s.9",
        ),
        f(
            "InterestDeclared",
            "kpcc-001-2013",
            "2013-05-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            person="Ann Barnes",
            interest="None declared",
        ),
        f(
            "DecisionSignedOff",
            "kpcc-001-2013",
            "2013-05-02",
            by=PCC_CFO,
            source=(DEMO, "illustrative"),
            signatory="chief_finance_officer",
            signed_by="Chief Finance Officer",
        ),
        f(
            "DecisionSignedOff",
            "kpcc-001-2013",
            "2013-05-02",
            by=PCC_CE,
            source=(DEMO, "illustrative"),
            signatory="chief_executive",
            signed_by="Chief Executive",
        ),
        f(
            "DecisionSignedOff",
            "kpcc-001-2013",
            "2013-05-03",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            signatory="commissioner",
            signed_by="Ann Barnes",
        ),
        f(
            "DecisionPublished",
            "kpcc-001-2013",
            "2013-05-04",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            published_on="2013-05-04",
        ),
        f(
            "GrantAwarded",
            "kent-pcc/grant/2013/community-safety",
            "2013-05-04",
            by=ANN_BARNES,
            source=(SEED_PCC, "illustrative"),
            recipient="Kent County Council",
            amount="100000.00",
            purpose="Community safety partnership work",
            funding_body=PCC,
            plan=PCC_PLAN,
            by_decision="kpcc-001-2013",
        ),
        f(
            "GrantVaried",
            "kent-pcc/grant/2013/community-safety",
            "2013-09-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            amount="120000.00",
            reason="extended scope",
        ),
        f(
            "GrantPaid",
            "kent-pcc/grant/2013/community-safety",
            "2013-10-01",
            by=PCC_CFO,
            source=(DEMO, "illustrative"),
            amount="60000.00",
        ),
        f(
            "GrantAwarded",
            "kent-pcc/grant/2013/youth",
            "2013-05-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            recipient="Youth Charity",
            amount="5000.00",
            purpose="Diversionary activities",
            funding_body=PCC,
        ),
        f(
            "GrantWithdrawn",
            "kent-pcc/grant/2013/youth",
            "2013-07-01",
            by=ANN_BARNES,
            source=(DEMO, "illustrative"),
            reason="recipient ceased operating",
        ),
        f(
            "DecisionRecorded",
            CONFIDENTIAL_DECISION,
            "2013-09-02",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            title="Sale of the former Tonbridge police house",
            originator="Kent PCC estates officer",
            confidentiality="confidential",
            confidential_reason="FOIA 2000 s.43(2): the bidders' commercial interests until"
            " the sale completes",
            executive_summary="Three sealed bids were received for the former police house",
            recommendation="Accept the highest bid",
            decision="The highest bid is accepted",
            financial_advice="The highest bid exceeds the district valuer's figure by 8%",
        ),
        f(
            "PlanVaried",
            PCC_PLAN,
            "2016-07-01",
            by=PCC_OFFICER,
            source=(SEED_PANEL, "lines 1-37"),
            summary="Updated plan reviewed by the Panel on 8 September 2016",
            reason="the new Commissioner's priorities",
        ),
        f(
            "OfficeTermEnded",
            "kent-pcc/2012-ann-barnes",
            "2016-05-11",
            by=PCC_CE,
            source=(DEMO, "DOMAIN.md"),
            reason="term ended at the May 2016 election",
        ),
        f(
            "OfficeTermStarted",
            "kent-pcc/2016-matthew-scott",
            "2016-05-12",
            by=PCC_CE,
            source=(DEMO, "DOMAIN.md"),
            office_body=PCC,
            office="Police and Crime Commissioner",
            holder="Matthew Scott",
            elected_on="2016-05-05",
        ),
        f(
            "InspectionReported",
            "peel-2016-kent-efficiency",
            "2016-11-03",
            by=INSPECTOR,
            source=(SEED_PEEL, "lines 1-12"),
            inspectorate=HMIC,
            inspected_body=FORCE,
            title="PEEL 2016: Efficiency",
            published_on="2016-11-03",
        ),
        f(
            "InspectionGraded",
            "peel-2016-kent-efficiency",
            "2016-11-03",
            by=INSPECTOR,
            source=(SEED_PEEL, "line 12"),
            question="overall",
            grade="good",
        ),
        f(
            "AreaForImprovementRaised",
            "peel-2016-kent-efficiency",
            "2016-11-03",
            by=INSPECTOR,
            source=(DEMO, "illustrative"),
            point="1",
            text="Continue to evaluate future demand",
            refers_to=[],
        ),
        f(
            "ImprovementActionPlanned",
            "peel-2016-kent-efficiency",
            "2016-12-01",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            action="1.i",
            point="1",
            term="short",
            text="Commission a demand review",
            owner="Chief Executive",
            due="March 2017",
            due_on="2017-03-31",
        ),
        f(
            "ImprovementActionCompleted",
            "peel-2016-kent-efficiency",
            "2017-03-20",
            by=PCC_OFFICER,
            source=(DEMO, "illustrative"),
            action="1.i",
        ),
        f("SourceDocumentRegistered", SEED_KPA, "2011-03-01", by=KPA_CE,
          source=(SEED_KPA, "whole document"), title=KPA_TEXT.title,
          sha256=hashlib.sha256(KPA_TEXT.text().encode()).hexdigest(),
          line_count=len(KPA_TEXT.text().splitlines())),
        f("TotalStated", SEED_KPA, "2011-03-01", by=KPA_CE, source=(DEMO, "illustrative"),
          check="demo-savings", what="Savings required in 2013/14 (illustrative)",
          amount="20.0", unit="GBP million", precision="0.1",
          sums=["budget/kent-pcc/2013-14/savings/2013-14"]),
        f("ActorRegistered", "kent-pcc-admin", "2017-04-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"), name="Ledger administrator", acts_for=PCC,
          roles=["administrator"], public_key=demo_public_key("kent-pcc-admin")),
        f("ActorRegistered", "kent-pcc-policy-officer", "2017-04-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"), name="Policy officer", acts_for=PCC,
          roles=["officer"], public_key=demo_public_key("kent-pcc-policy-officer")),
        f("ActorRoleGranted", "kent-pcc-policy-officer", "2017-05-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"), granted="chief_finance_officer",
          reason="acting Chief Finance Officer during a vacancy"),
        f("ActorRoleRevoked", "kent-pcc-policy-officer", "2017-08-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"), revoked="chief_finance_officer",
          reason="the new Chief Finance Officer took up post"),
        f("ActorKeyRotated", "kent-pcc-policy-officer", "2017-09-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"),
          public_key=demo_public_key("kent-pcc-policy-officer/2"),
          reason="a new laptop: the officer's key was replaced"),
        f("ActorKeyRevoked", "kent-pcc-policy-officer", "2017-10-01", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"),
          public_key=demo_public_key("kent-pcc-policy-officer/2"),
          reason="the laptop was lost: its key signs nothing from now on"),
        f("ActorDeactivated", "kent-pcc-policy-officer", "2017-12-31", by=PCC_ADMIN,
          source=(DEMO, "ledger set-up"), reason="left the office"),
    ]


def disclosures(published: tuple[str, int], confidential: tuple[str, int]) -> list[Fact]:
    """Withholding and releasing, given (event id, position) of the published decision and of
    the confidential one: the published decision's legal advice is withheld afterwards, and
    the confidential decision's financial advice released once the sale completed."""
    return [
        _fact("EventRedacted", "kpcc-001-2013", "2013-06-01", by=PCC_CE, kind="decision",
              source=(DEMO, "illustrative"), event=published[0], position=published[1],
              fields=["legal_advice"], basis="FOIA 2000 s.42 legal professional privilege"),
        _fact("RedactionReleased", CONFIDENTIAL_DECISION, "2014-03-31", by=PCC_CE,
              kind="decision", source=(DEMO, "illustrative"), event=confidential[0],
              position=confidential[1], fields=["financial_advice"],
              reason="the sale completed and its price was published"),
    ]


def record_sample(ledger: Ledger) -> list[Recorded]:
    """The whole sample, in order: the history, its correction, then its disclosures."""
    recorded = [r for fact in sample_history() for r in ledger.record([fact])]
    superseded = next(r.event for r in recorded if r.event.type == "PlanSuperseded")
    recorded += ledger.record(corrections(str(superseded.id)))
    decisions = {getattr(r.event, "key", ""): (str(r.event.id), r.position)
                 for r in recorded if r.event.type == "DecisionRecorded"}
    recorded += ledger.record(
        disclosures(decisions["kpcc-001-2013"], decisions[CONFIDENTIAL_DECISION])
    )
    return recorded


def corrections(superseded_event_id: str) -> list[Fact]:
    """A wrong entry above (the KPA plan 'superseded by itself') is retracted, not edited."""
    return [
        _fact(
            "EventRetracted",
            KPA_PLAN,
            "2012-11-22",
            by=KPA_CE,
            kind="plan",
            source=(DEMO, "illustrative"),
            corrects=superseded_event_id,
            reason="recorded in error: the KPA plan lapsed with the Authority, nothing"
            " superseded it",
        ),
    ]
