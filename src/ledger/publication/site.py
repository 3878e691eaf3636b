"""The static site: one HTML file per page, relative links only, so it opens from ``file://``
and from any static host. Pages are written from a ``Snapshot``; charts are inline SVG
(``charts.py``), each with a table beside it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from . import charts
from .snapshot import Snapshot
from .templates import (
    CSS,
    JS,
    definitions,
    esc,
    figure,
    filter_form,
    page,
    select,
    slug,
    source,
    table,
    text_input,
)

VERIFIER_NAME = "verify_evidence.py"


def evidence_path(kind: str, key: str) -> str:
    """Where a record's evidence pack is, from the site's top."""
    return f"evidence/{kind}-{slug(key)}.json"


def decision_path(reference: str) -> str:
    return f"decisions/{slug(reference)}.html"


def plan_path(key: str) -> str:
    return f"plans/{slug(key)}.html"


class Site:
    """Writes every page of one snapshot under ``out``."""

    def __init__(self, out: Path, snap: Snapshot, data_files: list[dict[str, Any]]) -> None:
        self.out = out
        self.snap = snap
        self.data_files = data_files
        self.bodies = snap.body_names()
        self.items = {
            item["item"]: item.get("title") or item["item"]
            for p in snap.plans for item in p["plan"].get("items", [])
        }
        self.written: list[str] = []

    def checkpoint(self) -> dict[str, Any]:
        s = self.snap
        return {"as_of": s.as_of, "size": s.size, "log_id": s.log_id, "root": s.root,
                "built_at": s.built_at, "note": s.checkpoint}

    def _write(self, path: str, title: str, body: str, *, current: str,
               scripts: bool = False) -> None:
        root = "../" * path.count("/")
        html = page(title=title, body=body, root=root, checkpoint=self.checkpoint(),
                    current=current, scripts=scripts)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.written.append(path)

    def body_name(self, key: str) -> str:
        return self.bodies.get(key, key)

    def write(self) -> list[str]:
        assets = self.out / "assets"
        assets.mkdir(parents=True, exist_ok=True)
        (assets / "site.css").write_text(CSS, encoding="utf-8")
        (assets / "site.js").write_text(JS, encoding="utf-8")
        for kind_key, pack in self.snap.evidence.items():
            target = self.out / evidence_path(*kind_key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
        self.index()
        self.decisions()
        self.plans()
        self.grants()
        self.transitions()
        self.reconciliation()
        self.data()
        self.verify()
        return self.written

    # ------------------------------------------------------------------ overview

    def index(self) -> None:
        s = self.snap
        deliverables = [d for p in s.plans for d in p["deliverables"]]
        overdue = sum(1 for d in deliverables if d.get("overdue"))
        differs = sum(1 for c in s.reconciliation if c["differs"])
        totals = s.grants["totals"]
        cards = [
            ("decisions/index.html", "Records of Decision", f"{len(s.decisions):,}"),
            ("plans/index.html", "Plans", f"{len(s.plans):,}"),
            ("plans/index.html", "Deliverables overdue", f"{overdue:,} of {len(deliverables):,}"),
            ("grants.html", "Grants awarded", f"{totals['count']:,}"),
            ("grants.html", "Total awarded", charts._fmt(Decimal(totals["awarded"]), "GBP")),
            ("transitions.html", "Transfers of responsibility",
             f"{len(s.transitions['transfers']):,}"),
            ("reconciliation.html", "Stated totals that differ", f"{differs:,} of "
             f"{len(s.reconciliation):,}"),
        ]
        body = (
            "<p>What the police governance bodies in this ledger decided, planned, awarded and "
            "handed over, as the ledger records it: every fact is an event in a hash-chained, "
            "signed log, and this site was built from a public copy of that log at one signed "
            "checkpoint (below). Confidential content is not in the public copy, so it is not "
            "here.</p>"
            '<ul class="cards">'
            + "".join(f'<li><a href="{href}">{escape(label)}</a><strong>{escape(value)}'
                      f"</strong></li>" for href, label, value in cards)
            + "</ul>"
            "<h2>How to read it</h2><ul>"
            '<li><a href="decisions/index.html">Decisions</a>: the decision log, filtered by '
            "body, office holder, date and topic, and a page per Record of Decision.</li>"
            '<li><a href="plans/index.html">Plan progress</a>: deliverables with status and '
            "overdue flags, per plan and priority; target histories with charts.</li>"
            '<li><a href="grants.html">Grants</a>: the register, with charts per recipient and '
            "per year.</li>"
            '<li><a href="transitions.html">Transitions</a>: bodies, office holders, transfers '
            "and the commitments open at each transfer.</li>"
            '<li><a href="reconciliation.html">Reconciliation</a>: every total a document '
            "states against the sum of its lines.</li>"
            '<li><a href="data.html">Open data</a>: 360Giving, Popolo, and every read model as '
            "CSV and JSON.</li>"
            '<li><a href="verify.html">Check a record</a> with the offline verifier.</li></ul>'
        )
        self._write("index.html", "The published record", body, current="index.html")

    # ------------------------------------------------------------------ decisions

    def decisions(self) -> None:
        s = self.snap
        rows, attrs = [], []
        for d in s.decisions:
            topics = list(d.get("plan_items") or [])
            holders = list(d.get("office_holders") or [])
            rows.append([
                f'<a href="{escape(slug(d["reference"]))}.html">{esc(d["reference"])}</a>',
                esc(d["decided_on"]),
                esc(self.body_name(d["body"])),
                esc(d.get("title")),
                esc(holders),
                esc([self.items.get(t, t) for t in topics]),
                esc(d.get("published_on") or "not published"),
            ])
            text = " ".join(str(d.get(f) or "") for f in (
                "reference", "title", "executive_summary", "recommendation", "decision"))
            attrs.append(
                f'data-body="{esc(d["body"])}" data-holder="{esc("|".join(holders))}" '
                f'data-date="{esc(d["decided_on"])}" data-topic="{esc("|".join(topics))}" '
                f'data-text="{esc(text)}"'
            )
        if not rows:
            body = f"<p>No Record of Decision is in the ledger as of {esc(s.as_of)}.</p>"
        else:
            bodies = sorted({d["body"] for d in s.decisions})
            holders = sorted({h for d in s.decisions for h in d.get("office_holders") or []})
            topics = sorted({t for d in s.decisions for t in d.get("plan_items") or []})
            controls = [
                select("body", "Body", [(b, self.body_name(b)) for b in bodies]),
                select("holder", "Office holder", [(h, h) for h in holders], mode="member"),
                text_input("date", "Decided from", kind="date", mode="from", name="from"),
                text_input("date", "Decided to", kind="date", mode="to", name="to"),
                select("topic", "Topic (plan item)",
                       [(t, _short(self.items.get(t, t))) for t in topics], mode="member"),
                text_input("text", "Words in the record"),
            ]
            body = (
                "<p>Records of Decision in the order decided, with the office holders of the "
                "deciding body on that day. Each reference opens the full record: its fields, "
                "sign-offs, declared interests, every change and the sources.</p>"
                + filter_form("decision-table", controls, "Filter the decisions")
                + table(["Reference", "Decided on", "Body", "Title", "Office holders",
                         "Topics", "Published"], rows, caption="Decision log",
                        row_attrs=attrs, ident="decision-table")
            )
        self._write("decisions/index.html", "Decision log", body,
                    current="decisions/index.html", scripts=bool(rows))
        for d in s.decisions:
            self.decision(d)

    def decision(self, d: dict[str, Any]) -> None:
        ref = d["reference"]
        fields = [
            ("Reference", esc(ref)),
            ("Title", esc(d.get("title"))),
            ("Body", esc(self.body_name(d["body"]))),
            ("Decided on", esc(d.get("decided_on"))),
            ("Office holders then", esc(d.get("office_holders"))),
            ("Originator", esc(d.get("originator"))),
            ("Confidentiality", esc(d.get("confidentiality"))
             + (f" ({esc(d['confidential_reason'])})" if d.get("confidential_reason") else "")),
            ("Executive summary", esc(d.get("executive_summary"))),
            ("Recommendation", esc(d.get("recommendation"))),
            ("Decision", esc(d.get("decision"))),
            ("Financial advice", esc(d.get("financial_advice"))),
            ("Legal advice", esc(d.get("legal_advice"))),
            ("Plan items", esc([self.items.get(t, t) for t in d.get("plan_items") or []])),
            ("Published on", esc(d.get("published_on") or "not published")),
            ("Source", source(d.get("source"))),
        ]
        signoffs = table(["Signatory", "Signed by", "Signed on"],
                         [[esc(x.get("signatory")), esc(x.get("signed_by")),
                           esc(x.get("signed_on"))] for x in d.get("signoffs") or []],
                         caption="Sign-offs")
        interests = table(["Person", "Interest"],
                          [[esc(i.get("person")), esc(i.get("interest"))]
                           for i in d.get("interests") or []], caption="Declared interests")
        trail = self.snap.trail("decision", ref)
        changes = table(
            ["Position", "Effective", "Recorded", "Event", "Field", "Before", "After", "Actor",
             "Role", "Reason", "Source", "Corrected by"],
            [[esc(r["position"]), esc(r["effective_at"]), esc(r["recorded_at"]),
              esc(r["event_type"]), esc(r["field"]), esc(r["before"]), esc(r["after"]),
              esc(r["actor"]), esc(r["role"]), esc(r["reason"]), source(r["source"]),
              esc(r["corrected_by"])] for r in trail],
            caption="Every change, in the order recorded",
        )
        sources = sorted({(r["source"]["document"], r["source"]["location"]) for r in trail})
        pack = evidence_path("decision", ref)
        body = (
            definitions(fields)
            + "<h2>Sign-offs and interests</h2>" + signoffs + interests
            + "<h2>The trail of changes</h2>" + changes
            + "<h2>Sources</h2><ul>"
            + "".join(f"<li>{esc(doc)}{', ' + esc(loc) if loc else ''}</li>"
                      for doc, loc in sources)
            + "</ul>"
            + _check_record(f"../{pack}", pack, self.snap.verifier_key, "../")
        )
        self._write(decision_path(ref), f"Record of Decision {ref}", body,
                    current="decisions/index.html")

    # ------------------------------------------------------------------ plans

    def plans(self) -> None:
        s = self.snap
        rows = []
        for p in s.plans:
            plan, ds = p["plan"], p["deliverables"]
            status = Counter(d.get("status") for d in ds)
            rows.append([
                f'<a href="{escape(slug(plan["key"]))}.html">{esc(plan.get("title"))}</a>',
                esc(plan.get("plan_type")), esc(plan.get("status")),
                esc(f"{plan.get('period_from') or ''} to {plan.get('period_to') or ''}"),
                f'<span class="num">{len(ds)}</span>',
                f'<span class="num">{status.get("completed", 0)}</span>',
                f'<span class="num">{sum(1 for d in ds if d.get("overdue"))}</span>',
                f'<span class="num">{len(p["targets"])}</span>',
            ])
        body = (
            f"<p>Every plan as it stood on {esc(s.as_of)}: its deliverables with their status "
            "(overdue: the due date has passed and the deliverable has not ended), and its "
            "targets with their history.</p>"
            + table(["Plan", "Type", "Status", "Period", "Deliverables", "Completed",
                     "Overdue", "Targets"], rows, caption="Plans")
        )
        self._write("plans/index.html", "Plan progress", body, current="plans/index.html")
        for p in s.plans:
            self.plan(p)

    def plan(self, p: dict[str, Any]) -> None:
        plan, ds = p["plan"], p["deliverables"]
        key = plan["key"]
        fields = [
            ("Status", esc(plan.get("status"))),
            ("Type", esc(plan.get("plan_type"))),
            ("Period", esc(f"{plan.get('period_from') or ''} to {plan.get('period_to') or ''}")),
            ("Issued on", esc(plan.get("issued_on"))),
            ("Source", source(plan.get("source"))),
        ]
        parts = [definitions(fields)]
        if plan.get("variations"):
            parts.append(table(
                ["Effective", "Summary", "Reason", "Position"],
                [[esc(v["effective_at"]), esc(v["summary"]), esc(v["reason"]),
                  esc(v["position"])] for v in plan["variations"]], caption="Variations"))
        parts.append("<h2>Progress</h2>")
        if ds:
            status = Counter(str(d.get("status")) for d in ds)
            overdue = sum(1 for d in ds if d.get("overdue"))
            data = [(name, Decimal(n)) for name, n in sorted(status.items())]
            data.append(("overdue", Decimal(overdue)))
            svg = charts.bar_chart(
                f"chart-status-{slug(key)}", f"Deliverables of {plan.get('title')} by status",
                f"{len(ds)} deliverables as of {self.snap.as_of}: "
                + ", ".join(f"{n} {name}" for name, n in data), data)
            parts.append(figure(svg, "Deliverables by status", table(
                ["Status", "Deliverables"], [[esc(n), esc(v)] for n, v in data])))
            parts.append(self._deliverables_by_item(plan, ds))
        else:
            parts.append("<p>No deliverables are recorded for this plan.</p>")
        targets = [t for t in self.snap.targets if t.get("plan") == key]
        if targets:
            parts.append("<h2>Targets</h2>")
            for t in targets:
                parts.append(self._target(t))
        self._write(plan_path(key), str(plan.get("title") or key), "".join(parts),
                    current="plans/index.html")

    def _deliverables_by_item(self, plan: dict[str, Any], ds: list[dict[str, Any]]) -> str:
        """Deliverables grouped by the plan item (priority, section, objective) they serve,
        under their top-level item."""
        items = {i["item"]: i for i in plan.get("items", [])}

        def top(item: str | None) -> str | None:
            seen = set()
            while item in items and items[item].get("parent") and item not in seen:
                seen.add(item)
                item = items[item]["parent"]
            return item

        groups: dict[str | None, list[dict[str, Any]]] = {}
        for d in ds:
            groups.setdefault(top(d.get("item")), []).append(d)
        parts = []
        for item, members in groups.items():
            info = items.get(item or "", {})
            heading = (f"{info.get('item_kind', 'item')} {info.get('number') or ''}: "
                       f"{info.get('title') or item}") if item else "Not under a plan item"
            parts.append(f"<h3>{esc(heading)}</h3>")
            parts.append(table(
                ["Number", "Deliverable", "Lead", "Measure", "Deadline", "Status", "Source"],
                [[esc(d.get("number")), esc(d.get("title")), esc(d.get("lead")),
                  esc(d.get("measure")), esc(d.get("deadline")),
                  esc(d.get("status")) + (' <span class="flag">overdue</span>'
                                          if d.get("overdue") else ""),
                  source(d.get("source"))] for d in members],
                caption=f"Deliverables ({len(members)})"))
        return "".join(parts)

    def _target(self, t: dict[str, Any]) -> str:
        unit = str(t.get("unit") or "")
        points = [charts.Point(s["effective_at"], n, s["step"])
                  for s in t["series"] if (n := charts.number(s.get("value"))) is not None]
        points.sort(key=lambda p: p.when)
        described = "; ".join(f"{p.step} {p.when[:10]}: {p.value}" for p in points)
        svg = charts.series_chart(
            f"chart-target-{slug(t['key'])}", f"History of the target: {t.get('title')}",
            f"Values in {unit or 'the target unit'}: {described or 'none numeric'}",
            points, unit)
        series = table(
            ["Effective", "Step", "Value", "Old value", "Justification", "Period", "Actor",
             "Source"],
            [[esc(s.get("effective_at")), esc(s.get("step")), esc(s.get("value")),
              esc(s.get("old_value")), esc(s.get("justification")),
              esc(s.get("period")), esc(s.get("actor")), source(s.get("source"))]
             for s in t["series"]])
        fields = [("Measure", esc(t.get("measure"))), ("Unit", esc(unit)),
                  ("Value now", esc(t.get("value"))), ("Source", source(t.get("source")))]
        return (f'<section class="target"><h3>{esc(t.get("title"))}</h3>'
                + definitions(fields)
                + figure(svg, f"Target history: {t.get('title')}", series) + "</section>")

    # ------------------------------------------------------------------ grants

    def grants(self) -> None:
        s = self.snap
        register, totals = s.grants["grants"], s.grants["totals"]
        by_recipient = sorted(((k, Decimal(v)) for k, v in totals["by_recipient"].items()),
                              key=lambda kv: (-kv[1], kv[0]))
        by_year = [(k, Decimal(v)) for k, v in totals["by_year"].items()]
        parts = [definitions([
            ("Grants awarded", esc(totals["count"])),
            ("Withdrawn", esc(totals["withdrawn"])),
            ("Total awarded", esc(charts._fmt(Decimal(totals["awarded"]), "GBP"))),
            ("Total paid", esc(charts._fmt(Decimal(totals["paid"]), "GBP"))),
        ])]
        for chart_id, title, data, head in (
            ("chart-grants-recipient", "Grants awarded per recipient", by_recipient,
             "Recipient"),
            ("chart-grants-year", "Grants awarded per financial year", by_year,
             "Financial year"),
        ):
            desc = "; ".join(f"{k}: {charts._fmt(v, 'GBP')}" for k, v in data)
            parts.append(figure(
                charts.bar_chart(chart_id, title, desc or "no grants", data, "GBP"), title,
                table([head, "Awarded (GBP)"], [[esc(k), esc(v)] for k, v in data])))
        rows, attrs = [], []
        for g in register:
            pack = evidence_path("grant", g["key"])
            rows.append([
                esc(g["key"]), esc(g.get("recipient")), esc(g.get("purpose")),
                esc(self.body_name(g.get("funding_body") or "")), esc(g.get("awarded_on")),
                esc(g.get("financial_year")), _money(g.get("amount")), _money(g.get("paid")),
                esc(g.get("status")), source(g.get("source")),
                f'<a href="{escape(pack)}">evidence pack</a>',
            ])
            words = " ".join(str(g.get(f) or "") for f in ("key", "recipient", "purpose"))
            attrs.append(
                f'id="grant-{escape(slug(g["key"]))}" data-recipient="{esc(g.get("recipient"))}" '
                f'data-year="{esc(g.get("financial_year"))}" '
                f'data-funder="{esc(g.get("funding_body"))}" data-status="{esc(g.get("status"))}" '
                f'data-text="{esc(words)}"'
            )
        controls = [
            select("recipient", "Recipient", [(r, r) for r in
                                              sorted({g["recipient"] for g in register})]),
            select("year", "Financial year", [(y, y) for y in
                                              sorted({g["financial_year"] for g in register})]),
            select("funder", "Funding body", [(f, self.body_name(f)) for f in
                                              sorted({g["funding_body"] for g in register})]),
            select("status", "Status", [(x, x) for x in sorted({g["status"] for g in register})]),
            text_input("text", "Words in the grant"),
        ]
        parts.append("<h2>The register</h2>")
        if register:
            parts.append(filter_form("grant-table", controls, "Filter the grants"))
            parts.append(table(
                ["Grant", "Recipient", "Purpose", "Funding body", "Awarded on", "Year",
                 "Amount (GBP)", "Paid (GBP)", "Status", "Source", "Check"], rows,
                caption="Grants register", row_attrs=attrs, cls="register", ident="grant-table",
            ))
            parts.append('<p>Each grant\'s evidence pack checks offline: see '
                         '<a href="verify.html">Check a record</a>.</p>')
        else:
            parts.append(f"<p>No grant is recorded as of {esc(s.as_of)}.</p>")
        self._write("grants.html", "Grants register", "".join(parts), current="grants.html",
                    scripts=bool(register))

    # ------------------------------------------------------------------ transitions

    def transitions(self) -> None:
        s = self.snap
        t = s.transitions
        spans = [charts.Span(f"{b.get('name') or b['key']}", b["established_on"],
                             b.get("abolished_on"), "body") for b in t["bodies"]]
        spans += [charts.Span(f"{x['holder']} ({x['office']}, {self.body_name(x['office_body'])})",
                              x["from"], x.get("to"), "term") for x in t["office_terms"]]
        marks = [(x["on"], f"{self.body_name(x['from_body'])} to {self.body_name(x['to_body'])}")
                 for x in t["transfers"]]
        desc = ("Bodies (blue) and office terms (green) as bars from their start to their end "
                "or to date; transfers of responsibility as dashed lines: "
                + "; ".join(f"{label} on {when}" for when, label in marks))
        svg = charts.timeline("chart-timeline", "Timeline of bodies, office holders and "
                              "transfers", desc, spans, marks, s.as_of)
        spans_table = table(["What", "From", "To"],
                            [[esc(x.label), esc(x.start), esc(x.end or "to date")]
                             for x in spans])
        parts = [figure(svg, "Bodies, office holders and transfers over time", spans_table)]
        parts.append("<h2>Bodies</h2>" + table(
            ["Body", "Name", "Type", "Established", "Abolished", "Note", "Source"],
            [[esc(b["key"]), esc(b.get("name")), esc(b.get("body_type")),
              esc(b.get("established_on")), esc(b.get("abolished_on")), esc(b.get("note")),
              source(b.get("source"))] for b in t["bodies"]], caption="Bodies"))
        parts.append("<h2>Office holders</h2>" + table(
            ["Holder", "Office", "Body", "Elected on", "From", "To"],
            [[esc(x["holder"]), esc(x["office"]), esc(self.body_name(x["office_body"])),
              esc(x.get("elected_on")), esc(x["from"]), esc(x.get("to") or "in office")]
             for x in t["office_terms"]], caption="Office terms"))
        parts.append("<h2>Transfers of responsibility</h2>")
        if not t["transfers"]:
            parts.append(f"<p>No transfer is recorded as of {esc(s.as_of)}.</p>")
        for x in t["transfers"]:
            outcomes = Counter(c["outcome"] for c in x["commitments"])
            parts.append(
                f'<section class="transfer" id="transfer-{escape(slug(x["key"]))}">'
                f"<h3>{esc(x['on'])}: {esc(self.body_name(x['from_body']))} to "
                f"{esc(self.body_name(x['to_body']))}</h3>"
                + definitions([("Legal basis", esc(x.get("legal_basis"))),
                               ("Responsibility", esc(x.get("responsibility"))),
                               ("Source", source(x.get("source"))),
                               ("Commitments open at the transfer",
                                esc(f"{len(x['commitments'])}: " + ", ".join(
                                    f"{n} {o}" for o, n in sorted(outcomes.items()))))])
                + table(["Deliverable", "Plan", "Title", "Lead", "Deadline",
                         "Status at transfer", "Outcome", "Outcome on", "Carried over to",
                         "Source"],
                        [[esc(c["deliverable"]), esc(c["plan"]), esc(c["title"]),
                          esc(c.get("lead")), esc(c.get("deadline")),
                          esc(c.get("status_at_transfer")), esc(c["outcome"]),
                          esc(c.get("outcome_on")), esc(c.get("carried_over_to")),
                          source(c.get("source"))] for c in x["commitments"]],
                        caption="Commitments of the outgoing body open at the transfer")
                + "</section>")
        self._write("transitions.html", "Transitions", "".join(parts),
                    current="transitions.html")

    # ------------------------------------------------------------------ reconciliation

    def reconciliation(self) -> None:
        checks = self.snap.reconciliation
        body = (
            "<p>Every total a source document states, against the sum of the lines it names, "
            "compared at the precision the document prints. Nothing is adjusted to fit: where "
            "they differ, both figures are shown.</p>"
            + table(["Document", "Total", "Unit", "Stated", "Computed", "Difference", "Source",
                     "Lines summed", "Finding"],
                    [[esc(c["document"]), esc(c["what"]), esc(c["unit"]), esc(c["stated"]),
                      esc(c["computed"]), esc(c["difference"]), esc(c["source"]),
                      esc(c["lines_summed"]),
                      '<span class="flag">differs</span>' if c["differs"] else "agrees"]
                     for c in checks], caption="Reconciliation of stated totals",
                    row_attrs=['class="differs"' if c["differs"] else "" for c in checks])
            if checks else "<p>No document states a total.</p>"
        )
        self._write("reconciliation.html", "Reconciliation findings", body,
                    current="reconciliation.html")

    # ------------------------------------------------------------------ data and checking

    def data(self) -> None:
        rows = [[f'<a href="{escape(f["path"])}">{esc(f["path"])}</a>', esc(f["what"]),
                 esc(f["format"]), esc(f"{f['bytes']:,}"), f'<code>{esc(f["sha256"])}</code>']
                for f in self.data_files]
        body = (
            "<p>Every file below was built in the same run as these pages, from the same public "
            "copy of the log, and sits beside the signed checkpoint it was built from "
            '(<a href="data/checkpoint.note">data/checkpoint.note</a>). '
            '<a href="data/manifest.json">data/manifest.json</a> lists each file with its '
            "SHA-256 and the checkpoint. CSV files follow RFC 4180 (CRLF line ends; nested "
            "values as JSON).</p>"
            + table(["File", "What", "Format", "Bytes", "SHA-256"], rows,
                    caption="Open data files")
        )
        self._write("data.html", "Open data", body, current="data.html")

    def verify(self) -> None:
        s = self.snap
        packs = sorted(s.evidence)
        example = evidence_path(*packs[0]) if packs else "evidence/decision-REFERENCE.json"
        verifier = (f'<a href="verify/{VERIFIER_NAME}">{VERIFIER_NAME}</a>'
                    if (self.out / "verify" / VERIFIER_NAME).is_file() else VERIFIER_NAME)
        rows = [[esc(kind), esc(key), f'<a href="{escape(evidence_path(kind, key))}">'
                 f"{esc(evidence_path(kind, key))}</a>"] for kind, key in packs]
        body = (
            "<p>Every fact here comes from an event in a hash-chained log whose Merkle tree is "
            f"signed as a checkpoint of {s.size:,} events. Each decision and each grant has an "
            "<em>evidence pack</em>: its events with their chain links, signatures and "
            "inclusion proofs against that checkpoint, and the key history of those who "
            "signed them. A one-file verifier checks a pack "
            "offline, with nothing of the ledger (Python 3.11 and the <code>cryptography</code> "
            "package).</p>"
            '<h2 id="how">How to check a record</h2><ol>'
            "<li>Take the log's verifier key from where the body publishes it (not only from "
            "this site). The key this site was signed with is:"
            f'<pre class="note-text">{esc(s.verifier_key)}</pre></li>'
            f"<li>Download the verifier, {verifier} (it is "
            "<code>scripts/verify_evidence.py</code> in the ledger's repository), and the "
            "record's evidence pack (listed below).</li>"
            "<li>Run it:"
            f'<pre class="note-text">python3 {VERIFIER_NAME} {esc(example)} --key '
            f"'{esc(s.verifier_key)}'</pre>"
            "It prints one <code>OK position N ...</code> line per event and a last "
            "<code>OK key history ...</code> line and exits 0, or one "
            "<code>FAILED ...</code> line naming what does not hold and exits 1. For each event "
            "it checks: payload, salted payload digest, chain link, Merkle leaf, inclusion "
            "proof, the signed checkpoint and the key; and that its signature is good with the "
            "signer's key at that point of the log, and that the signer is the event's own "
            "actor or a records officer transcribing a document. A withheld payload is proved "
            "by its digest alone.</li>"
            "<li>With the ledger itself, <code>ledger verify --checkpoint data/checkpoint.note "
            f"--verifier-key '{esc(s.verifier_key)}'</code> checks that the log still extends "
            "this checkpoint.</li></ol>"
            "<h2>The signed checkpoint</h2>"
            f'<pre class="note-text">{esc(s.checkpoint)}</pre>'
            "<h2>Evidence packs</h2>"
            + (table(["Kind", "Record", "Pack"], rows, caption="Evidence packs") if rows
               else "<p>No decision or grant is recorded.</p>")
        )
        self._write("verify.html", "Check a record", body, current="verify.html")


def _check_record(href: str, pack: str, key: str, root: str) -> str:
    return (
        '<h2>Check this record</h2><p>Its <a href="' + escape(href) + '">evidence pack</a> '
        "proves each of its events against the signed checkpoint below, offline:</p>"
        f'<pre class="note-text">python3 {VERIFIER_NAME} {esc(pack)} --key \'{esc(key)}\''
        f'</pre><p><a href="{root}verify.html#how">How to check a record</a>.</p>'
    )


def _money(value: Any) -> str:
    return f'<span class="num">{esc(f"{Decimal(str(value or 0)):,}")}</span>'


def _short(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def write_site(out: Path, snap: Snapshot, data_files: Iterable[dict[str, Any]]) -> list[str]:
    return Site(out, snap, list(data_files)).write()
