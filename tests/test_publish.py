"""`ledger publish`: the static site and the open data, built from the public copy of the log,
each beside the signed checkpoint it was built from (issue 17). The browser tests are in
test_publish_browser.py and use the sites built here."""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from jsonschema import Draft3Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3, DRAFT202012

from ledger.entrypoints.cli import _run, cli
from ledger.services import Fact

from helpers import ENVELOPE, open_ledger

ROOT = Path(__file__).resolve().parents[1]
VENDOR = Path(__file__).parent / "vendor"
VERIFIER = ROOT / "scripts" / "verify_evidence.py"
AS_OF = "2016-12-31"
SECRETS = ("Quillwort-sealed-bids", "Marrowfat-valuation", "Bramblecote-house",
           "Thistledown-accepted", "Gorseland-counsel", "Nettlebed-advice")
"""Each confidential field of the confidential decision holds one of these words."""
AWKWARD = 'Youth work, "diversion"\nand mentoring'
"""A grant purpose that CSV must quote: a comma, quotes and a line break."""


def run(store: str, args: list[str]) -> tuple[int, str]:
    """`ledger --store STORE ARGS...` as the console script runs it: (exit code, output)."""
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", store, *args])
        text = out.getvalue().decode() + err.getvalue().decode()
    return code, text


def _fact(type_: str, key: str, on: str, actor: tuple[str, str, str], kind: str | None = None,
          **fields: Any) -> Fact:
    who, role, body = actor
    return Fact(type=type_, key=key, kind=kind, fields={
        **ENVELOPE, "actor": who, "role": role, "body": body, "effective_at": on,
        "source": {"document": "publish-test", "location": f"{type_} {key}"}, **fields})


KPA = ("kpa-officer", "officer", "kpa")
PCC = ("pcc-officer", "officer", "pcc")
ANN = ("ann-example", "commissioner", "pcc")
CE = ("pcc-ce", "chief_executive", "pcc")


def history(*, confidential: bool = True) -> list[Fact]:
    """A small history with one of everything the site shows: two bodies and a transfer
    between them, an office term, two plans (deliverables, one overdue; a target revised and
    measured), three grants (one paid, one withdrawn) and two decisions, one confidential."""
    f = _fact
    facts = [
        f("BodyEstablished", "kpa", "2011-03-01", KPA, name="Example Police Authority",
          body_type="police_authority"),
        f("BodyEstablished", "pcc", "2012-11-22", PCC, name="Office of the Example PCC",
          body_type="pcc_office"),
        f("OfficeTermStarted", "pcc/2012-ann-example", "2012-11-22", PCC, office_body="pcc",
          office="Police and Crime Commissioner", holder="Ann Example",
          elected_on="2012-11-15"),
        f("PlanDrafted", "kpa-plan", "2011-03-01", KPA, title="Authority business plan",
          plan_type="business-plan", period_from="2011-03-01", period_to="2012-11-21"),
        f("PlanItemAdded", "kpa-plan", "2011-03-01", KPA, item="s1", item_kind="section",
          number="1", title="Governance"),
        f("PlanIssued", "kpa-plan", "2011-03-01", KPA),
        f("DeliverableAdded", "kpa-plan/1.1", "2011-03-01", KPA, plan="kpa-plan", item="s1",
          number="1", title="Committee programme agreed", lead="Chief Executive",
          deadline="June 2011", due_on="2011-06-30"),
        f("DeliverableAdded", "kpa-plan/1.2", "2011-03-01", KPA, plan="kpa-plan", item="s1",
          number="2", title="Estates review", lead="Treasurer", deadline="June 2012",
          due_on="2012-06-30"),
        f("DeliverableStatusChanged", "kpa-plan/1.1", "2011-06-15", KPA, status="completed",
          reason="agreed at the June meeting"),
        f("ResponsibilityTransferred", "kpa-to-pcc", "2012-11-22", KPA, from_body="kpa",
          to_body="pcc", responsibility="Everything the Authority held",
          legal_basis="Police Reform and Social Responsibility Act 2011, Schedule 15"),
        f("BodyAbolished", "kpa", "2012-11-22", PCC, reason="abolished by the 2011 Act"),
        f("PlanDrafted", "pcc-plan", "2013-04-01", PCC, title="Police and crime plan",
          plan_type="police-and-crime-plan", period_from="2013-04-01",
          period_to="2017-03-31"),
        f("PlanItemAdded", "pcc-plan", "2013-04-01", PCC, item="priority-1",
          item_kind="priority", number="1", title="Cutting crime"),
        f("TargetSet", "pcc-plan/victim-crime", "2013-04-01", PCC, plan="pcc-plan",
          item="priority-1", title="Victim-based crime", measure="change on the baseline",
          value="-5", unit="percent"),
        f("BaselineRecorded", "pcc-plan/victim-crime", "2014-03-31", PCC, value="92000",
          period="2013-14"),
        f("TargetRevised", "pcc-plan/victim-crime", "2014-04-01", PCC, old_value="-5",
          new_value="-3", reason="the baseline was higher than expected"),
        f("OutcomeMeasured", "pcc-plan/victim-crime", "2015-03-31", PCC, value="-1.5",
          period="2014-15"),
        f("GrantAwarded", "pcc/grant/alpha", "2013-05-01", ANN, recipient="Alpha Trust",
          amount="1000", purpose=AWKWARD, funding_body="pcc", plan="pcc-plan"),
        f("GrantPaid", "pcc/grant/alpha", "2013-10-01", ANN, amount="400"),
        f("GrantAwarded", "pcc/grant/beta", "2014-06-01", ANN, recipient="Beta Partnership",
          amount="2500.50", purpose="Community safety", funding_body="pcc"),
        f("GrantAwarded", "pcc/grant/gamma", "2013-05-01", ANN, recipient="Gamma Club",
          amount="300", purpose="Sport", funding_body="pcc"),
        f("GrantWithdrawn", "pcc/grant/gamma", "2013-07-01", ANN, reason="the club closed"),
        f("DecisionRecorded", "kpcc-001", "2013-05-01", PCC, title="Community safety grants",
          originator="Policy officer", executive_summary="Grants to partners",
          recommendation="Approve", decision="The grants are approved",
          plan_items=["priority-1"]),
        f("DecisionSignedOff", "kpcc-001", "2013-05-02", CE, signatory="chief_executive",
          signed_by="Chief Executive"),
        f("DecisionSignedOff", "kpcc-001", "2013-05-03", ANN, signatory="commissioner",
          signed_by="Ann Example"),
        f("DecisionPublished", "kpcc-001", "2013-05-04", ANN, published_on="2013-05-04"),
        f("DecisionRecorded", "kpcc-003", "2014-02-01", PCC, title="Estates strategy",
          originator="Estates officer", executive_summary="Keep the stations",
          decision="Agreed"),
    ]
    if confidential:
        facts.append(f(
            "DecisionRecorded", "kpcc-002", "2013-09-02", PCC, title=f"Sale of {SECRETS[2]}",
            originator="Estates officer", confidentiality="confidential",
            confidential_reason="FOIA 2000 s.43(2): commercial interests",
            executive_summary=f"Three {SECRETS[0]} were received",
            recommendation=f"Accept the {SECRETS[1]}", decision=f"{SECRETS[3]}",
            financial_advice=f"{SECRETS[5]}", legal_advice=f"{SECRETS[4]}"))
    return facts


def make_store(url: str, *, confidential: bool = True) -> None:
    with open_ledger(url) as ledger:
        for fact in history(confidential=confidential):
            ledger.record([fact])


@dataclass(frozen=True)
class Published:
    store: str
    site: Path
    vkey: str
    output: str


@pytest.fixture(scope="module", name="published")
def published_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The test history in a SQLite store, published as of the end of 2016."""
    folder = tmp_path_factory.mktemp("published")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGER_KEY_DIR", str(folder / "keys"))
        store = f"sqlite:///{folder}/ledger.db"
        make_store(store)
        code, out = run(store, ["publish", "--out", str(folder / "site"), "--as-of", AS_OF])
        assert code == 0, out
        vkey = run(store, ["checkpoint", "--verifier-key"])[1].strip()
        yield Published(store, folder / "site", vkey, out)


@pytest.fixture(scope="module", name="main_site")
def main_job_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The main job's store (the real documents), which the main job publishes itself."""
    folder = tmp_path_factory.mktemp("main")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGER_KEY_DIR", str(folder / "keys"))
        store = f"sqlite:///{folder}/ledger.db"
        code, out = run(store, ["main"])
        assert code == 0, out
        vkey = run(store, ["checkpoint", "--verifier-key"])[1].strip()
        yield Published(store, folder / "site", vkey, out)


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# ---------------------------------------------------------------------------- the site


def test_publish_writes_every_section_and_says_what_it_did(published: Published) -> None:
    site = published.site
    for page in ("index.html", "decisions/index.html", "decisions/kpcc-001.html",
                 "plans/index.html", "plans/pcc-plan.html", "grants.html",
                 "transitions.html", "reconciliation.html", "data.html", "verify.html"):
        assert (site / page).is_file(), page
    assert re.search(r"published \d+ pages and \d+ open data files as of 2016-12-31, from the "
                     r"signed checkpoint of \d+ events of log [0-9a-f-]{36}", published.output)
    assert f"site: {site / 'index.html'}" in published.output
    decision = (site / "decisions/kpcc-001.html").read_text()
    for shown in ("Community safety grants", "Chief Executive", "Ann Example", "2013-05-04",
                  "DecisionSignedOff", "publish-test", "Cutting crime"):
        assert shown in decision, shown
    plan = (site / "plans/kpa-plan.html").read_text()
    assert plan.count('class="flag">overdue') == 1  # 1.2 is overdue, 1.1 was completed
    transitions = (site / "transitions.html").read_text()
    assert "Office of the Example PCC" in transitions and "Schedule 15" in transitions
    assert "open at transfer, no outcome recorded" in transitions  # 1.2, still open


def test_every_page_shows_the_checkpoint_and_how_to_check_a_record(
    published: Published,
) -> None:
    note = (published.site / "data/checkpoint.note").read_text()
    size, root = note.split("\n")[1:3]
    for page in pages(published.site):
        text = page.read_text()
        up = "../" * (len(page.relative_to(published.site).parts) - 1)
        assert f"{int(size):,} events" in text and root in text, page
        assert f'href="{up}data/checkpoint.note"' in text, page
        assert f'href="{up}verify.html"' in text, page
    verify = (published.site / "verify.html").read_text()
    assert "python3 verify_evidence.py evidence/" in verify
    assert published.vkey in verify


def test_the_checkpoint_is_the_stores_and_its_evidence_packs_check_offline(
    published: Published, tmp_path: Path,
) -> None:
    """The site's checkpoint is a checkpoint of the published store (ledger verify accepts it
    with the log's key), and a record's evidence pack from the site checks with the one-file
    offline verifier the site carries, against that key."""
    site = published.site
    code, out = run(published.store, ["verify", "--checkpoint", str(site / "data/checkpoint.note"),
                                      "--verifier-key", published.vkey])
    assert code == 0 and out.startswith("OK position"), out
    copied = site / "verify" / "verify_evidence.py"
    assert copied.read_bytes() == VERIFIER.read_bytes()
    for pack in ("decision-kpcc-001.json", "grant-pcc~sgrant~salpha.json"):
        path = site / "evidence" / pack
        assert json.loads(path.read_text())["checkpoint"] == (site / "data/checkpoint.note"
                                                              ).read_text()
        done = subprocess.run([sys.executable, str(copied), str(path), "--key", published.vkey],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "OK position" in done.stdout, done
    other = run(f"sqlite:///{tmp_path}/other.db", ["init", "--admin", "a", "--name", "A",
                                                   "--body", "b", "--body-name", "B",
                                                   "--body-type", "other"])
    assert other[0] == 0
    wrong = run(f"sqlite:///{tmp_path}/other.db", ["checkpoint", "--verifier-key"])[1].strip()
    pack = site / "evidence/decision-kpcc-001.json"
    done = subprocess.run([sys.executable, str(copied), str(pack), "--key", wrong],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for name in ("href", "src"):
            if found.get(name):
                self.links.append(str(found[name]))


def _parsed(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text())
    return parser


@pytest.mark.parametrize("which", ["published", "main_site"])
def test_every_internal_link_resolves(which: str, request: pytest.FixtureRequest) -> None:
    """Every href and src of every page names a file of the site (and an id in it, for a
    fragment); none leads outside the site or off the machine."""
    site: Path = request.getfixturevalue(which).site
    checked = 0
    for page in pages(site):
        for link in _parsed(page).links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, (page, link)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_relative_to(site.resolve()) and target.is_file(), (page, link)
            if parts.fragment:
                assert parts.fragment in _parsed(target).ids, (page, link)
            checked += 1
    assert checked > 100



def test_either_backend_publishes_the_same_record(store_url: str, tmp_path: Path) -> None:
    """A SQLite store is copied before it is read; a PostgreSQL one is read where it is. Both
    give the same pages and read models, beside a checkpoint the store accepts."""
    make_store(store_url)
    code, out = run(store_url, ["publish", "--out", str(tmp_path / "site"), "--as-of", AS_OF])
    assert code == 0, out
    vkey = run(store_url, ["checkpoint", "--verifier-key"])[1].strip()
    code, out = run(store_url, ["verify", "--checkpoint",
                                str(tmp_path / "site/data/checkpoint.note"), "--verifier-key",
                                vkey])
    assert code == 0, out
    grants = json.loads((tmp_path / "site/data/projections/grants.json").read_text())
    assert grants["totals"]["awarded"] == "3500.50"
    assert "kpcc-003" in (tmp_path / "site/decisions/index.html").read_text()

# ---------------------------------------------------------------------------- open data


def test_the_manifest_lists_every_data_file_with_its_digest(published: Published) -> None:
    data = published.site / "data"
    manifest = json.loads((data / "manifest.json").read_text())
    note = (data / "checkpoint.note").read_text()
    assert manifest["checkpoint"]["size"] == int(note.split("\n")[1])
    assert manifest["as_of"] == AS_OF
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {str(p.relative_to(published.site)) for p in data.rglob("*") if p.is_file()}
    assert listed == on_disk - {"data/manifest.json"}
    for f in manifest["files"]:
        raw = (published.site / f["path"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == f["sha256"] and len(raw) == f["bytes"]


def test_every_projection_is_published_as_json_and_rfc4180_csv(published: Published) -> None:
    folder = published.site / "data" / "projections"
    for name in ("plan_state", "decision_trail", "audit_trail", "transitions",
                 "target_history", "grants"):
        assert (folder / f"{name}.json").is_file(), name
    grants = json.loads((folder / "grants.json").read_text())
    code, out = run(published.store, ["grants", "--format", "json", "--as-of", AS_OF])
    assert code == 0 and json.loads(out) == grants
    code, out = run(published.store, ["transitions", "--format", "json", "--as-of", AS_OF])
    assert json.loads(out) == json.loads((folder / "transitions.json").read_text())
    raw = (folder / "grants.csv").read_bytes()
    assert raw.startswith(b"kind,key,") and raw.endswith(b"\r\n")
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    assert [r["key"] for r in rows] == [g["key"] for g in grants["grants"]]
    assert next(r for r in rows if r["key"] == "pcc/grant/alpha")["purpose"] == AWKWARD
    assert json.loads(rows[0]["source"]) == grants["grants"][0]["source"]  # nested as JSON
    assert b'"Youth work, ""diversion""\nand mentoring"' in raw  # quoted, quotes doubled
    assert raw.count(b"\r\n") == len(rows) + 1  # records end CRLF; the line break inside is LF
    text = (folder / "target_series.csv").read_bytes().decode()
    series = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [s["step"] for s in series] == ["set", "baseline", "revised", "measured"]


def _giving_validator() -> Draft202012Validator:
    package = json.loads((VENDOR / "360giving/360-giving-package-schema.json").read_text())
    grant = json.loads((VENDOR / "360giving/360-giving-schema.json").read_text())
    registry: Registry[Any] = Registry().with_resource(
        grant["$id"], Resource.from_contents(grant, default_specification=DRAFT202012))
    checker = Draft202012Validator.FORMAT_CHECKER
    assert {"date-time", "uri"} <= set(checker.checkers)  # else oneOf(date-time, date) is moot
    assert package["properties"]["grants"]["items"]["$ref"] == grant["$id"]
    return Draft202012Validator(package, registry=registry, format_checker=checker)


def test_the_grants_are_a_valid_360giving_package(published: Published) -> None:
    package = json.loads((published.site / "data/360giving.json").read_text())
    validator = _giving_validator()
    validator.validate(package)
    grants = {g["id"]: g for g in package["grants"]}
    assert set(grants) == {"360G-kentpcc-ledger-pcc-grant-alpha",
                           "360G-kentpcc-ledger-pcc-grant-beta"}  # gamma was withdrawn
    alpha = grants["360G-kentpcc-ledger-pcc-grant-alpha"]
    assert alpha["amountAwarded"] == 1000 and alpha["awardDate"] == "2013-05-01"
    assert alpha["disbursementTransaction"] == [{"amount": 400,
                                                 "transactionDate": "2013-10-01"}]
    assert grants["360G-kentpcc-ledger-pcc-grant-beta"]["amountAwarded"] == 2500.5
    assert alpha["fundingOrganization"][0]["name"] == "Office of the Example PCC"
    assert "placeholder" in package["description"]
    broken = json.loads(json.dumps(package))  # the schema does catch a grant without amount
    del broken["grants"][0]["amountAwarded"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(package))
    broken["grants"][0]["awardDate"] = "1 May 2013"
    assert not validator.is_valid(broken)


def test_the_2013_17_plans_26_grants_at_the_documents_amounts(main_site: Published) -> None:
    """The main job's site: the 360Giving package validates, with the 26 grants the plan's
    table lists, each at the amount the document prints."""
    text = (ROOT / "src/ledger/seeds/documents/001_5185d9c126115a94.txt").read_text()
    table = text.split("Organisation\tGrant\tPurpose of Grant", 1)[1].split("TOTAL GRANT", 1)[0]
    printed = {}
    for line in table.splitlines():
        cells = line.split("\t")
        if len(cells) > 1 and cells[1].startswith("£"):
            printed[cells[0]] = Decimal(cells[1][1:].replace(",", ""))
    assert len(printed) == 26
    package = json.loads((main_site.site / "data/360giving.json").read_text())
    _giving_validator().validate(package)
    found = {g["recipientOrganization"][0]["name"]: Decimal(str(g["amountAwarded"]))
             for g in package["grants"]}
    assert found == printed
    assert all(g["id"].startswith("360G-kentpcc-ledger-") for g in package["grants"])
    assert {g["awardDate"] for g in package["grants"]} == {"2013-04-01"}


def test_bodies_terms_and_people_are_valid_popolo(published: Published) -> None:
    schemas = {p.stem: json.loads(p.read_text()) for p in (VENDOR / "popolo").glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (s["id"].rstrip("#"), Resource.from_contents(s, default_specification=DRAFT3))
        for s in schemas.values())
    popolo = json.loads((published.site / "data/popolo.json").read_text())
    for collection, schema in (("persons", "person"), ("organizations", "organization"),
                               ("posts", "post"), ("memberships", "membership")):
        validator = Draft3Validator(schemas[schema], registry=registry)
        assert popolo[collection], collection
        for item in popolo[collection]:
            validator.validate(item)
    assert not Draft3Validator(schemas["membership"], registry=registry).is_valid(
        {**popolo["memberships"][0], "start_date": "22 November 2012"})
    orgs = {o["id"]: o for o in popolo["organizations"]}
    assert orgs["kpa"]["dissolution_date"] == "2012-11-22"
    assert "responsibility passed from kpa to pcc" in orgs["pcc"]["description"]
    (term,) = popolo["memberships"]
    assert (term["person_id"], term["organization_id"], term["start_date"]) == (
        "person/ann-example", "pcc", "2012-11-22")
    assert [p["name"] for p in popolo["persons"]] == ["Ann Example"]


# ---------------------------------------------------------------------------- as of, input


def test_as_of_publishes_the_world_as_it_was_then(published: Published, tmp_path: Path) -> None:
    code, out = run(published.store, ["publish", "--out", str(tmp_path / "site"),
                                      "--as-of", "2013-12-31"])
    assert code == 0, out
    grants = json.loads((tmp_path / "site/data/projections/grants.json").read_text())
    assert [g["key"] for g in grants["grants"]] == ["pcc/grant/alpha", "pcc/grant/gamma"]
    (target,) = json.loads((tmp_path / "site/data/projections/target_history.json").read_text())
    assert [s["step"] for s in target["series"]] == ["set"]
    index = (tmp_path / "site/index.html").read_text()
    assert "as of <strong>2013-12-31</strong>" in index
    assert "kpcc-003" not in (tmp_path / "site/decisions/index.html").read_text()


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_bad_input_is_one_line_and_writes_nothing(published: Published, tmp_path: Path) -> None:
    out = tmp_path / "site"
    for args, field in ((["--as-of", "2016-13-45"], "as_of"),
                        (["--as-of", "yesterday"], "as_of"),
                        (["--giving-prefix", "GB-CHC-123"], "giving_prefix")):
        code, text = run(published.store, ["publish", "--out", str(out), *args])
        assert code == 2 and text.startswith(f"error: {field}: ") and text.count("\n") == 1, text
        assert not out.exists()
    code, text = run(f"sqlite:///{tmp_path}/absent.db", ["publish", "--out", str(out)])
    assert code == 5 and "Traceback" not in text and not out.exists(), text
    assert not (tmp_path / "absent.db").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, text = run(published.store, ["publish", "--out", str(tmp_path / "mine")])
    assert code == 2 and text.startswith("error: out: ") and "nothing written" in text, text
    assert _listing(tmp_path / "mine") == {"notes.txt": b"keep me"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_a_second_publication_replaces_the_first_whole(published: Published,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run(published.store, ["publish", "--out", str(out), "--as-of", "2013-12-31"])[0] == 0
    (out / "stale.html").write_text("from before")
    code, text = run(published.store, ["publish", "--out", str(out), "--as-of", AS_OF])
    assert code == 0, text
    assert not (out / "stale.html").exists()
    assert "as of <strong>2016-12-31</strong>" in (out / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging left behind


# ---------------------------------------------------------------------------- confidentiality


def _words_under(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            found += [(str(path), w) for w in SECRETS if w.encode() in raw
                      or w.encode("utf-16-le") in raw]
    return found


def test_a_confidential_decisions_words_appear_nowhere_under_the_site(
    published: Published,
) -> None:
    """Not in a page, a data file or an evidence pack (in UTF-8 or UTF-16): the site is read
    from the public copy as the public, and the read policy withholds them."""
    assert _words_under(published.site) == []
    listing = (published.site / "decisions/index.html").read_text()
    assert "kpcc-002" in listing  # the decision is public; its words are not


def test_the_site_is_built_from_the_public_copy_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Publish reads only what ``export_public`` hands it: here a stand-in whose copy is of
    another store that never held the confidential decision. Nothing of the source store
    reaches the site but through that copy."""
    source = f"sqlite:///{tmp_path}/source.db"
    make_store(source)
    public = tmp_path / "public-source.db"
    make_store(f"sqlite:///{public}", confidential=False)
    calls: list[tuple[str, Path]] = []

    def export_public(source_url: str, out: Path) -> None:
        calls.append((source_url, out))
        with sqlite3.connect(public) as origin, sqlite3.connect(out) as copy:
            origin.backup(copy)

    try:
        disclosure = importlib.import_module("ledger.disclosure")
    except ImportError:  # before issue 15: a module of its own
        disclosure = ModuleType("ledger.disclosure")
        monkeypatch.setitem(sys.modules, "ledger.disclosure", disclosure)
    monkeypatch.setattr(disclosure, "export_public", export_public, raising=False)
    code, out = run(source, ["publish", "--out", str(tmp_path / "site"), "--as-of", AS_OF])
    assert code == 0, out
    assert [c[0] for c in calls] == [source] and not calls[0][1].exists()  # a temporary file
    assert _words_under(tmp_path / "site") == []
    assert "kpcc-002" not in (tmp_path / "site/decisions/index.html").read_text()
    assert "kpcc-001" in (tmp_path / "site/decisions/index.html").read_text()


# ---------------------------------------------------------------------------- the main job


def test_the_main_job_publishes_its_site_and_says_where(main_site: Published) -> None:
    lines = [line for line in main_site.output.splitlines() if line.startswith("site: ")]
    assert lines == [f"site: {main_site.site / 'index.html'}"]
    index = (main_site.site / "index.html").read_text()
    assert "Kent Police Authority" in (main_site.site / "transitions.html").read_text()
    assert "Total awarded" in index
    code, out = run(main_site.store, ["verify", "--checkpoint",
                                      str(main_site.site / "data/checkpoint.note"),
                                      "--verifier-key", main_site.vkey])
    assert code == 0, out

