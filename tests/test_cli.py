"""The `ledger` command as officers, the Panel and auditors use it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.entrypoints.cli import _run, cli
from ledger.entrypoints.cli_write import VERBS

SETUP = "--effective-at 2013-01-01 --source-document setup"
PEOPLE = [
    ("officer1", "officer"), ("ce", "chief_executive"), ("cfo", "chief_finance_officer"),
    ("ann", "commissioner"), ("panel1", "panel_member"), ("auditor1", "auditor"),
]


def run(store: str, line: str | list[str]) -> tuple[int, str]:
    """Runs `ledger --store STORE ...` the way the console script does; returns (code, output)."""
    args = line.split() if isinstance(line, str) else line
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["--store", store, *args])
        text = out.getvalue().decode() + err.getvalue().decode()
    return code, text


def events_digest(store: str) -> str:
    """The stored events and links, byte for byte."""
    path = store.removeprefix("sqlite:///")
    if not Path(path).exists():
        return "absent"
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT rowid, * FROM ledger_events ORDER BY rowid").fetchall()
        rows += conn.execute("SELECT * FROM ledger_chain ORDER BY position").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def public_key(actor: str) -> str:
    """The actor's public key, its private key made in the key directory if absent."""
    code, out = run("sqlite:///unused.db", f"key show {actor}")
    if code != 0:
        code, out = run("sqlite:///unused.db", f"key new {actor}")
        assert code == 0, out
    return out.strip().splitlines()[-1]


def populate(store: str) -> None:
    """The walk-through's start: a genesis, then the people, each with a key."""
    code, out = run(store, ["init", "--admin", "admin", "--name", "Admin", "--body", "kent-pcc",
                            "--body-name", "Kent", "--body-type", "pcc_office",
                            "--effective-at", "2012-11-22"])
    assert code == 0, out
    for actor, role in PEOPLE:
        code, out = run(store, f"actor add {actor} --name {actor} --acts-for kent-pcc "
                               f"--roles {role} --public-key {public_key(actor)} --as admin "
                               f"{SETUP}")
        assert code == 0, out


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/ledger.db"
    populate(url)
    return url


def test_officer_panel_and_auditor_session(store: str) -> None:
    record = ("decision record kpcc-001 --title Grants --originator Officer "
              "--executive-summary Summary --decision Approved --as officer1 "
              "--effective-at 2013-05-01 --source-document rod-001")
    assert run(store, record)[0] == 0
    code, out = run(store, "decision sign-off kpcc-001 --signatory chief_executive "
                           "--as ce --effective-at 2013-05-02 --source-document rod-001")
    assert code == 0, out
    signed_at = int(out.split(" at position ")[1].split()[0])
    for line in ("term start kent-pcc/ann --office-body kent-pcc --office Commissioner "
                 "--holder ann --as officer1 --effective-at 2013-01-01 --source-document r",
                 "decision sign-off kpcc-001 --signatory commissioner --as ann "
                 "--effective-at 2013-05-03 --source-document rod-001",
                 "decision publish kpcc-001 --published-on 2013-05-04 --as ann "
                 "--effective-at 2013-05-04 --source-document rod-001"):
        code, out = run(store, line)
        assert code == 0, out

    code, out = run(store, "decisions --format json")
    trail = json.loads(out)
    assert [(d["reference"], d["published_on"]) for d in trail] == [("kpcc-001", "2013-05-04")]
    assert [(s["signatory"], s["signed_by"]) for s in trail[0]["signoffs"]] == [
        ("chief_executive", "ce"), ("commissioner", "ann")]

    before = events_digest(store)
    code, out = run(store, record.replace("kpcc-001", "kpcc-002").replace("officer1", "panel1"))
    assert code == 3 and "not permitted" in out
    assert events_digest(store) == before

    code, out = run(store, f"replay --until {signed_at - 1} --kind decision --key kpcc-001")
    steps = json.loads(out)
    assert steps[-1]["type"] == "DecisionRecorded"
    assert steps[-1]["state"]["signed_off"] == [] and steps[-1]["state"]["published_on"] is None
    code, out = run(store, "verify")
    assert code == 0 and out.startswith("OK position")


def test_signatories_sign_only_in_their_own_capacity(store: str) -> None:
    run(store, "decision record d1 --title T --originator O --executive-summary S --decision D "
               "--as officer1 --effective-at 2013-05-01 --source-document r")
    code, out = run(store, "decision sign-off d1 --signatory commissioner --as ce "
                           "--effective-at 2013-05-02 --source-document r")
    assert code == 3 and "signatory" in out
    before = events_digest(store)
    code, out = run(store, "record DecisionRecorded d2 --as panel1 --role panel_member --body "
                           "kent-pcc --effective-at 2013-05-01 --source-document r -f title=T "
                           "-f originator=O -f executive_summary=S -f decision=D")
    assert code == 3 and events_digest(store) == before, out


def test_evidence_pack_verifies_offline_and_withholds_confidential_words(
    store: str, tmp_path: Path
) -> None:
    """The pack checks with the one-file offline verifier; a changed payload does not; a
    confidential decision's words and salt are not in it."""
    import subprocess
    import sys

    run(store, "decision record d1 --title T --originator O --executive-summary Secretword "
               "--decision D --confidentiality confidential --confidential-reason commercial "
               "--as officer1 --effective-at 2013-05-01 --source-document r")
    code, out = run(store, "decision sign-off d1 --signatory chief_executive --as ce "
                           "--effective-at 2013-05-02 --source-document r")
    assert code == 0, out
    code, out = run(store, f"evidence d1 --out {tmp_path}/pack")
    assert code == 0, out
    pack_file = tmp_path / "pack" / "evidence.json"
    text = pack_file.read_text()
    assert "Secretword" not in text
    pack = json.loads(text)
    assert "state" not in pack["events"][0] and "salt" not in pack["events"][0]
    assert "state" in pack["events"][1]
    key = run(store, "checkpoint --verifier-key")[1].strip()
    script = Path(__file__).parents[1] / "scripts" / "verify_evidence.py"

    def check(path: Path, vkey: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), str(path), "--key", vkey],
                              capture_output=True, text=True, timeout=60)

    done = check(pack_file, key)
    assert done.returncode == 0 and done.stdout.count("OK position") == 2, done
    pack["events"][1]["state"] = pack["events"][1]["state"].replace("chief", "CHIEF")
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(pack))
    assert check(changed, key).returncode == 1
    other = run(f"sqlite:///{tmp_path}/other.db", "init --admin a --name A --body b "
                "--body-name B --body-type other")
    assert other[0] == 0
    wrong = run(f"sqlite:///{tmp_path}/other.db", "checkpoint --verifier-key")[1].strip()
    assert check(pack_file, wrong).returncode == 1


def test_help_names_every_command_and_the_exit_codes() -> None:
    def walk(group: click.Group, path: list[str]) -> list[list[str]]:
        found = [path]
        for name in group.list_commands(None):  # type: ignore[arg-type]
            command = group.get_command(None, name)  # type: ignore[arg-type]
            if isinstance(command, click.Group):
                found += walk(command, [*path, name])
            else:
                found.append([*path, name])
        return found

    paths = walk(cli, [])
    assert len(paths) > len(VERBS) + 15
    for path in paths:
        code, out = run("sqlite:///unused.db", [*path, "--help"])
        assert code == 0 and "Exit codes" in out, path
    for group, verb, _ in VERBS:
        code, out = run("sqlite:///unused.db", [group, verb, "--help"])
        assert "--effective-at" in out and "--file" in out, (group, verb)


def test_a_decision_from_a_yaml_file(store: str, tmp_path: Path) -> None:
    record = tmp_path / "rod.yaml"
    record.write_text("title: Estates strategy\noriginator: Head of estates\n"
                      "executive_summary: Sell two stations\nrecommendation: Agree\n"
                      "decision: Agreed\nconfidentiality: confidential\n"
                      "confidential_reason: commercial negotiations\n")
    code, out = run(store, f"decision record kpcc-009 --file {record} --as officer1 "
                           "--effective-at 2014-01-10 --source-document rod-009")
    assert code == 0, out
    code, out = run(store, "decisions --format json --text estates")
    assert [d["confidentiality"] for d in json.loads(out)] == ["confidential"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n")
    before = events_digest(store)
    code, out = run(store, f"decision record kpcc-010 --file {broken} --as officer1 "
                           "--effective-at 2014-01-10 --source-document rod-010")
    assert code == 2 and out.startswith("error: file:") and events_digest(store) == before


def test_the_panel_pages_through_the_decision_trail(store: str) -> None:
    for n in range(1, 6):
        code, out = run(store, f"decision record rod-{n} --as officer1 --title Estates-{n} "
                               "--originator O --executive-summary S --decision Agreed "
                               f"--effective-at 2014-01-0{n} --source-document rod-{n}")
        assert code == 0, out
    code, out = run(store, "decisions --format json --text estates --limit 2 --offset 1")
    assert code == 0, out
    assert [d["reference"] for d in json.loads(out)] == ["rod-2", "rod-3"]
    code, out = run(store, "decisions --format json --text ESTATES --from 2014-01-04")
    assert [d["reference"] for d in json.loads(out)] == ["rod-4", "rod-5"]
    code, out = run(store, "decisions --from 2014-13-01")
    assert code == 2 and out.startswith("error: from:"), out
    code, out = run(store, "decisions --limit 0")
    assert code == 2 and out.startswith("error:") and "--limit" in out, out


# ---------------------------------------------------------------- fuzzing every write command

KEYS = st.sampled_from(["kpcc-001", "plan-1", "t1", "g1", "kent-pcc", "", "UPPER", "a b",
                        "x" * 200, "../etc", "d1"])
VALUES = st.one_of(
    st.sampled_from(["2013-05-01", "2013-02-30", "yesterday", "1000.00", "-5", "1e400",
                     "nan", "officer", "commissioner", "kent-pcc", "[1,2]", "{}", "", " ",
                     "true", "ünïcode ✓", "0", "99999999999999999999"]),
    st.text(max_size=12),
)
OPTION_NAMES = st.sampled_from([
    "--title", "--originator", "--executive-summary", "--decision", "--amount", "--recipient",
    "--purpose", "--funding-body", "--plan", "--value", "--new-value", "--old-value",
    "--period", "--status", "--lead", "--deadline", "--signatory", "--signed-by",
    "--published-on", "--name", "--body-type", "--acts-for", "--roles", "--granted",
    "--from-body", "--to-body", "--responsibility", "--legal-basis", "--plan-type",
    "--period-from", "--summary", "--role", "--body", "--reason", "--corrects",
    "--source-location", "--bogus", "--file",
])
ACTORS = st.sampled_from(["officer1", "ce", "ann", "panel1", "auditor1", "admin", "nobody", ""])


PLAUSIBLE = {
    "date": ["2013-05-01", "2014-04-01", "2013-05-01T10:00:00+00:00"],
    "amount": ["1000.00", "5", "0.01"],
    "value": ["10", "-3.5", "12"],
    "signatory": ["chief_executive", "commissioner", "chief_finance_officer"],
    "status": ["in_progress", "completed", "closed", "lapsed"],
    "roles": ["officer", "panel_member", "administrator"],
    "body": ["kent-pcc"],
    "key": ["kpcc-001", "plan-1", "t1", "g1"],
}


def plausible(option: str) -> list[str]:
    for hint, values in PLAUSIBLE.items():
        if hint in option or (hint == "date" and option.endswith(("-on", "-from", "-to"))):
            return values
    if option in ("--plan", "--by-plan", "--to-plan"):
        return PLAUSIBLE["key"]
    return ["Some text", "x"]


@st.composite
def write_command(draw: st.DrawFn) -> list[str]:
    """Mostly well-formed commands with one or two things wrong, sometimes pure noise."""
    group, verb, _ = draw(st.sampled_from([*VERBS, ("correct", "", "")]))
    command = cli.commands[group]
    if verb:
        command = command.commands[verb]  # type: ignore[attr-defined]
    options = [o.opts[0] for o in command.params if isinstance(o, click.Option)
               and o.opts[0].startswith("--") and o.opts[0] not in ("--file", "--help")]
    args = [group] + ([verb] if verb else []) + [draw(KEYS)]
    for option in draw(st.lists(st.sampled_from(options), max_size=8, unique=True)):
        if option in ("--as", "--effective-at", "--source-document"):
            continue
        noise = draw(st.integers(0, 4)) == 0
        args += [option, draw(VALUES) if noise else draw(st.sampled_from(plausible(option)))]
    if draw(st.integers(0, 9)):
        args += ["--as", draw(ACTORS)]
    if draw(st.integers(0, 9)):
        args += ["--effective-at", draw(st.sampled_from(["2013-06-01", "2012-12-12"]) |
                                          VALUES)]
    if draw(st.integers(0, 9)):
        args += ["--source-document", draw(st.sampled_from(["doc-1"]) | VALUES)]
    if draw(st.integers(0, 5)) == 0:
        args += [draw(OPTION_NAMES), draw(VALUES)]
    return args


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/ledger.db"
    populate(url)
    return url


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=write_command())
def test_malformed_writes_never_trace_and_never_write(fuzz_store: str, args: list[str]) -> None:
    before = events_digest(fuzz_store)
    code, out = run(fuzz_store, args)
    assert "Traceback" not in out
    assert code in (0, 2, 3, 4), out
    if code != 0:
        assert events_digest(fuzz_store) == before, (args, out)
        assert out.strip().count("\n") == 0 or out.lstrip().startswith(("Usage", "Error")), out


def test_import_then_reconcile_through_the_cli(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/seeds.db"
    populate(store)
    code, out = run(store, "import --as officer1")
    assert code == 3 and "records officer" in out, out
    assert run(store, f"actor add clerk --name Clerk --acts-for kent-pcc --roles records_officer "
                      f"--public-key {public_key('clerk')} --as admin {SETUP}")[0] == 0
    code, out = run(store, "import --as clerk")
    assert code == 0 and "already imported" not in out, out
    code, out = run(store, "import --as clerk")
    assert code == 0 and out.count("already imported") == 6, out
    code, out = run(store, "reconcile --format json")
    checks = json.loads(out)
    assert code == 1 and {c["check"] for c in checks if c["differs"]} == {
        "total-financing", "grants-table"}
    code, out = run(store, ["plan", "show", "kpa-business-plan-2011-12", "--format", "json"])
    deliverables = json.loads(out)["deliverables"]
    assert code == 0 and len(deliverables) == 45
    assert all(d["lead"] and d["deadline"] and d["source"]["location"] for d in deliverables)


def test_projections_rebuild_then_status_at_the_head(store: str) -> None:
    run(store, "decision record d1 --title T --originator O --executive-summary S --decision D "
               "--as officer1 --effective-at 2013-05-01 --source-document r")
    code, out = run(store, "projections rebuild")
    assert code == 0 and out.startswith("rebuilt all projections"), out
    code, out = run(store, "projections status --format json")
    status = json.loads(out)
    assert code == 0 and len(status) == 7  # the shared entity history and six read models
    assert all(s["behind"] == 0 and s["position"] == s["head"] > 0 for s in status)
    code, out = run(store, "projections rebuild nosuch")
    assert code == 2 and out.startswith("error: name: no projection 'nosuch'"), out
