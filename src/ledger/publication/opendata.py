"""Open data written beside the site, each file beside the signed checkpoint it was built from:

- ``360giving.json``: the grants as a 360Giving data package (standard 1.4);
- ``popolo.json``: bodies (organizations), office holders (persons), their offices (posts) and
  terms (memberships) as Popolo JSON;
- ``projections/NAME.json`` and ``.csv``: every read model as the CLI's ``--format json``
  shapes, and as RFC 4180 CSV (one file per record type, nested values as JSON);
- ``checkpoint.note``, ``verifier-key.txt`` and ``manifest.json`` (every file's SHA-256, and
  the checkpoint).

360Giving identifiers need a registered prefix (``360G-...``). ``PLACEHOLDER_PREFIX`` is not one
a body has registered: it marks data published before the body has its own prefix, which it
then passes as ``--giving-prefix``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from .snapshot import Snapshot

PLACEHOLDER_PREFIX = "360G-kentpcc-ledger"
GIVING_VERSION = "1.4"
LICENCE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "unnamed"


def _amount(value: Any) -> int | float:
    """A money text as a JSON number (360Giving's amounts are numbers)."""
    found = Decimal(str(value))
    return int(found) if found == found.to_integral_value() else float(found)


def giving_package(snap: Snapshot, prefix: str = PLACEHOLDER_PREFIX) -> dict[str, Any]:
    """The grants register as a 360Giving data package. A withdrawn grant is left out (the
    standard records awards; the register and its CSV keep it, with its status)."""
    bodies = snap.body_names()
    grants = []
    for g in snap.grants["grants"]:
        if g.get("status") == "withdrawn":
            continue
        funder = g.get("funding_body") or ""
        grant: dict[str, Any] = {
            "id": f"{prefix}-{_slugify(g['key'])}",
            "title": f"Grant to {g['recipient']}"[:140],
            "description": g.get("purpose") or f"Grant to {g['recipient']}",
            "currency": g.get("currency") or "GBP",
            "amountAwarded": _amount(g["amount"]),
            "awardDate": g["awarded_on"],
            "recipientOrganization": [{
                "id": f"{prefix}-org-{_slugify(g['recipient'])}",
                "name": g["recipient"],
            }],
            "fundingOrganization": [{
                "id": f"{prefix}-org-{_slugify(funder)}",
                "name": bodies.get(funder, funder),
            }],
            "dateModified": snap.built_at,
        }
        if g.get("plan"):
            grant["grantProgramme"] = [{"code": g["plan"], "title": g["plan"]}]
        if g.get("payments"):
            grant["disbursementTransaction"] = [
                {"amount": _amount(p["amount"]), "transactionDate": p["paid_on"]}
                for p in g["payments"]
            ]
        grants.append(grant)
    return {
        "version": GIVING_VERSION,
        "title": "Grants recorded in the police governance ledger",
        "description": (
            f"Grants awarded by police governance bodies as recorded in the ledger, as of "
            f"{snap.as_of}, read from a public copy of log {snap.log_id} at its signed "
            f"checkpoint of {snap.size} events (checkpoint.note beside this file). Identifiers "
            f"use the prefix {prefix}"
            + (", a placeholder: no 360Giving prefix has been registered for this data"
               if prefix == PLACEHOLDER_PREFIX else "")
            + ". Withdrawn grants are not included."
        ),
        "identifier": f"{prefix}-{snap.log_id}-{snap.size}",
        "issued": snap.built_at,
        "modified": snap.built_at,
        "publisher": {"name": "Police governance ledger", "identifier": prefix},
        "license": LICENCE,
        "grants": grants,
    }


def popolo(snap: Snapshot) -> dict[str, Any]:
    """Bodies, office holders and their terms as Popolo: organizations, persons, posts (an
    office of a body) and memberships (a term). A transfer of responsibility is told in both
    bodies' descriptions; Popolo has no class for it."""
    t = snap.transitions
    transfers: dict[str, list[str]] = {}
    for x in t["transfers"]:
        note = (f"{x['on']}: responsibility passed from {x['from_body']} to {x['to_body']} "
                f"({x.get('legal_basis') or ''})")
        transfers.setdefault(x["from_body"], []).append(note)
        transfers.setdefault(x["to_body"], []).append(note)
    organizations = []
    for b in t["bodies"]:
        org: dict[str, Any] = {
            "id": b["key"],
            "name": b.get("name") or b["key"],
            "classification": b.get("body_type") or "",
            "founding_date": b["established_on"],
        }
        if b.get("abolished_on"):
            org["dissolution_date"] = b["abolished_on"]
        notes = [n for n in [b.get("note") or "", *transfers.get(b["key"], [])] if n]
        if notes:
            org["description"] = "; ".join(notes)
        organizations.append(org)
    persons: dict[str, dict[str, Any]] = {}
    posts: dict[str, dict[str, Any]] = {}
    memberships = []
    for term in t["office_terms"]:
        person_id = f"person/{_slugify(term['holder'])}"
        persons.setdefault(person_id, {"id": person_id, "name": term["holder"]})
        post_id = f"post/{term['office_body']}/{_slugify(term['office'])}"
        posts.setdefault(post_id, {"id": post_id, "label": term["office"],
                                   "organization_id": term["office_body"]})
        membership: dict[str, Any] = {
            "id": f"membership/{term['office_body']}/{_slugify(term['holder'])}/{term['from']}",
            "person_id": person_id,
            "organization_id": term["office_body"],
            "post_id": post_id,
            "role": term["office"],
            "start_date": term["from"],
        }
        if term.get("to"):
            membership["end_date"] = term["to"]
        memberships.append(membership)
    return {"persons": list(persons.values()), "organizations": organizations,
            "posts": list(posts.values()), "memberships": memberships}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def csv_text(records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """RFC 4180: a header row, CRLF line ends, fields quoted when they need it, nested values
    as JSON (the CLI's ``--format csv`` rule)."""
    cols: list[str] = list(columns or [])
    if not cols:
        for record in records:
            cols += [k for k in record if k not in cols]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(cols)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in cols])
    return buffer.getvalue()


def projection_tables(snap: Snapshot) -> dict[str, tuple[Any, dict[str, list[dict[str, Any]]]]]:
    """Each read model: its JSON (the query's shape) and its CSV tables (records)."""
    plans = snap.plans
    audit = [{"kind": kind, "key": key, **row}
             for (kind, key), rows in snap.audit.items() for row in rows]
    t = snap.transitions
    return {
        "plan_state": (plans, {
            "plans": [{k: v for k, v in p["plan"].items() if k not in ("items", "variations")}
                      for p in plans],
            "plan_items": [{"plan": p["plan"]["key"], **i} for p in plans
                           for i in p["plan"].get("items", [])],
            "plan_variations": [{"plan": p["plan"]["key"], **v} for p in plans
                                for v in p["plan"].get("variations", [])],
            "plan_deliverables": [d for p in plans for d in p["deliverables"]],
            "plan_targets": [x for p in plans for x in p["targets"]],
        }),
        "decision_trail": (snap.decisions, {"decisions": snap.decisions}),
        "audit_trail": (audit, {"audit_trail": audit}),
        "transitions": (t, {
            "bodies": t["bodies"],
            "office_terms": t["office_terms"],
            "transfers": [{k: v for k, v in x.items() if k != "commitments"}
                          for x in t["transfers"]],
            "commitments": [{"transfer": x["key"], **c} for x in t["transfers"]
                            for c in x["commitments"]],
        }),
        "target_history": (snap.targets, {
            "targets": [{k: v for k, v in x.items() if k != "series"} for x in snap.targets],
            "target_series": [{"target": x["key"], **s} for x in snap.targets
                              for s in x["series"]],
        }),
        "grants": (snap.grants, {
            "grants": snap.grants["grants"],
            "grant_payments": [{"grant": g["key"], **p} for g in snap.grants["grants"]
                               for p in g["payments"]],
            "grant_variations": [{"grant": g["key"], **v} for g in snap.grants["grants"]
                                 for v in g["variations"]],
        }),
        "reconciliation": (snap.reconciliation, {"reconciliation": snap.reconciliation}),
    }


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_open_data(out: Path, snap: Snapshot,
                    prefix: str = PLACEHOLDER_PREFIX) -> list[dict[str, Any]]:
    """Writes ``out/data/...``; returns the files written (path from the site's top, what it
    is, format, size, SHA-256), which ``manifest.json`` also lists."""
    data = out / "data"
    (data / "projections").mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []

    def put(path: str, text: str, what: str, fmt: str) -> None:
        raw = text.encode("utf-8")
        (out / path).write_bytes(raw)
        files.append({"path": path, "what": what, "format": fmt, "bytes": len(raw),
                      "sha256": hashlib.sha256(raw).hexdigest()})

    put("data/checkpoint.note", snap.checkpoint,
        "the signed checkpoint (C2SP tlog-checkpoint) every file here was built from",
        "signed note")
    put("data/verifier-key.txt", snap.verifier_key + "\n",
        "the log's verifier key the checkpoint is signed with", "signed-note verifier key")
    put("data/360giving.json", _json(giving_package(snap, prefix)),
        "grants as a 360Giving data package (standard 1.4)", "JSON")
    put("data/popolo.json", _json(popolo(snap)),
        "bodies, office holders, offices and terms as Popolo", "JSON")
    for name, (shape, tables) in projection_tables(snap).items():
        put(f"data/projections/{name}.json", _json(shape), f"read model {name}", "JSON")
        for table_name, records in tables.items():
            put(f"data/projections/{table_name}.csv", csv_text(records),
                f"read model {name}: {table_name.replace('_', ' ')}", "CSV (RFC 4180)")
    manifest = {
        "checkpoint": {"file": "data/checkpoint.note", "log_id": snap.log_id,
                       "size": snap.size, "root": snap.root},
        "as_of": snap.as_of,
        "built_at": snap.built_at,
        "files": list(files),
    }
    put("data/manifest.json", _json(manifest), "this list, with each file's SHA-256", "JSON")
    return files

