"""What a person meets at the command line: tables that hold the answer, one rule for what is
not found, quiet pipes, Ctrl-C, help that teaches, progress, and files the README writes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ledger.entrypoints import output
from ledger.entrypoints.cli import _run, cli
from ledger.entrypoints.cli_write import VERBS, FieldOption
from test_cli import events_digest, populate, run

ROOT = Path(__file__).resolve().parents[1]
LEDGER = str(Path(sys.executable).with_name("ledger"))
RECORD = ["decision", "record", "kpcc-001", "--title", "Grants", "--originator", "Officer",
          "--executive-summary", "Summary", "--decision", "Approved", "--as", "officer1",
          "--effective-at", "2013-05-01", "--source-document", "rod-001"]


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/ledger.db"
    populate(url)
    return url


@pytest.fixture(scope="module")
def main_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The main job's documents, imported as the main job imports them (without its report)."""
    from ledger.adapters.keys import KeyDir
    from ledger.entrypoints.cli_import import MAIN_GENESIS, MAIN_RECORDS_OFFICER
    from ledger.importer import documents, import_document
    from ledger.provisioning import ensure_actor, open_or_init

    folder = tmp_path_factory.mktemp("main")
    url = f"sqlite:///{folder}/ledger.db"
    with pytest.MonkeyPatch.context() as mp:  # its keys only while it is made
        mp.setenv("LEDGER_KEY_DIR", str(folder / "keys"))
        keys = KeyDir()
        ledger = open_or_init(url, keys=keys, **MAIN_GENESIS)
        ledger.signer = ensure_actor(ledger, **MAIN_RECORDS_OFFICER, keys=keys,
                                     admin=lambda: keys.signer(MAIN_GENESIS["admin"]))
        for doc in documents():
            import_document(ledger, doc)
        ledger.close()
    yield url


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder}/demo.db"
    with pytest.MonkeyPatch.context() as mp:  # its keys only while it is made
        mp.setenv("LEDGER_KEY_DIR", str(folder / "keys"))
        code, out = run(url, ["demo"])
        assert code == 0, out
    yield url


def table(store: str, *args: str) -> str:
    code, out = run(store, list(args))
    assert code == 0, out
    return out


# ---------------------------------------------------------------- tables a person reads


def test_plan_show_has_a_header_and_its_items_deliverables_and_targets(main_store: str) -> None:
    out = table(main_store, "plan", "show", "kent-police-and-crime-plan-2013-17")
    assert "(nothing)" not in out
    assert re.search(r"^title: +The Kent Police & Crime Plan 2013-2017$", out, re.M)
    assert re.search(r"^period: +2013-04-01 to 2017-03-31$", out, re.M)
    assert re.search(r"^status: +\w+", out, re.M) and re.search(r"^extension: +none$", out, re.M)
    assert "\nItems (86)\n" in out and "\nTargets (5)\n" in out
    assert re.search(r"^  kent-police-and-crime-plan-2013-17/ambition-1 +Reduce the level of "
                     r"victim-based crime by +8 +percent", out, re.M)
    kpa = table(main_store, "plan", "show", "kpa-business-plan-2011-12")
    assert re.search(r"^extension: +to 2012-11-21 \(recorded effective 2012-05-31: ", kpa, re.M)
    assert "\nDeliverables (45)\n" in kpa
    # numbers in full (section 1, descriptor 1, deliverable 2) and in natural order
    assert kpa.index("kpa-business-plan-2011-12/1.1.2 ") < kpa.index(
        "kpa-business-plan-2011-12/1.1.10 ") < kpa.index("kpa-business-plan-2011-12/1.2.1 ")
    assert re.search(r"^  kpa-business-plan-2011-12/1\.1\.10 +1\.1\.10 ", kpa, re.M)
    csv_rows = table(main_store, "plan", "show", "kpa-business-plan-2011-12", "--format",
                     "csv").splitlines()
    assert csv_rows[0].startswith("section,")
    assert [r.split(",")[0] for r in csv_rows[1:]] == ["items"] * 11 + ["deliverables"] * 45


def test_plan_items_are_in_natural_order_in_json_too(main_store: str) -> None:
    found = json.loads(table(main_store, "plan", "show", "kent-police-and-crime-plan-2013-17",
                             "--format", "json"))
    keys = [i["item"] for i in found["plan"]["items"]]
    assert keys.index("priority-2/objective-9") < keys.index("priority-2/objective-10")
    assert keys.index("promise-9") < keys.index("promise-10")
    story = json.loads(table(main_store, "transitions", "--as-of", "2013-01-01", "--format",
                             "json"))
    handed = [c["deliverable"] for c in story["transfers"][0]["commitments"]]
    assert handed.index("kpa-business-plan-2011-12/1.1.2") < handed.index(
        "kpa-business-plan-2011-12/1.1.10") < handed.index("kpa-business-plan-2011-12/1.2.1")


def test_transitions_before_the_handover_show_the_bodies(main_store: str) -> None:
    out = table(main_store, "transitions", "--as-of", "2012-11-21")
    assert "(nothing)" not in out and "\nBodies (4)\n" in out
    assert re.search(r"^  kent-police-authority +Kent Police Authority +police_authority +"
                     r"first seen in the documents 2011-03-01", out, re.M)
    after = table(main_store, "transitions", "--as-of", "2013-01-01")
    assert "\nTransfers (1)\n" in after and "\nCommitments open at a transfer (45)\n" in after


def test_decisions_table_and_csv_show_signoffs_and_interests(demo_store: str) -> None:
    out = table(demo_store, "decisions", "--as-of", "2020-01-01", "--wide")
    assert re.search(r"^kpcc-001-2013 .*Ann Barnes +Chief Executive \(chief_executive\) "
                     r"2013-05-02; .*Ann Barnes \(commissioner\) 2013-05-03 +"
                     r"Ann Barnes: None declared +2013-05-04$", out, re.M)
    assert "[" not in out and "{" not in out
    rows = table(demo_store, "decisions", "--as-of", "2020-01-01", "--format", "csv")
    header = rows.splitlines()[0].split(",")
    assert {"office holders", "signed off", "interests declared"} <= set(header)
    assert "Ann Barnes: None declared" in rows and ",none recorded," in rows


def test_targets_table_has_title_and_unit(demo_store: str) -> None:
    out = table(demo_store, "targets", "--as-of", "2020-01-01")
    assert re.search(r"^target +title +unit +effective_at +step +value", out, re.M)
    assert re.search(r"^kent-pcc/victim-based-crime +Reduce victim-based crime +percent +"
                     r"2013-04-01 +set +-5", out, re.M)


def test_keys_are_never_cut_long_cells_are_marked_and_wide_shows_all(main_store: str) -> None:
    grants = json.loads(table(main_store, "grants", "--as-of", "2020-01-01", "--format",
                              "json"))["grants"]
    long_keys = [g["key"] for g in grants if len(g["key"]) > output.CELL_MOST]
    assert long_keys, "the documents no longer have a grant with a long key"
    out = table(main_store, "grants", "--as-of", "2020-01-01")
    for key in long_keys:
        assert re.search(rf"^{re.escape(key)} ", out, re.M), key
    items = table(main_store, "plan", "show", "kent-police-and-crime-plan-2013-17")
    assert "…" in items
    wide = table(main_store, "plan", "show", "kent-police-and-crime-plan-2013-17", "--wide")
    assert "…" not in wide and "Deliver the Kent Community Safety Agreement 2011-2014 and " \
        "Medway Community Safety Plan 2012-13" in wide


def test_sources_and_states_read_as_text(main_store: str) -> None:
    out = table(main_store, "audit", "plan", "kpa-business-plan-2011-12")
    assert re.search(r" 000_936d9d2f2833dd1e lines? \d+", out) and '{"document"' not in out
    replay = table(main_store, "replay", "--kind", "plan", "--key", "kpa-business-plan-2011-12",
                   "--format", "table", "--wide")
    assert "title: Kent Police Authority Business Plan" in replay and '{"' not in replay


def test_bidi_overrides_and_controls_are_shown_escaped(store: str) -> None:
    spoof = "Grants \u202eexe.txt"
    code, out = run(store, [*RECORD[:4], spoof, *RECORD[5:]])
    assert code == 0, out
    out = table(store, "decisions", "--as-of", "2020-01-01")
    assert "\u202e" not in out and "Grants \\u202eexe.txt" in out
    shown = table(store, "show", "decision", "kpcc-001")
    assert "\u202e" not in shown and json.loads(shown)["title"] == spoof
    assert "\u202e" not in table(store, "log") + table(store, "history", "decision", "kpcc-001")
    code, out = run(store, ["show", "decision", "x\x1b[2J\u202e"])
    assert code == 2 and out == "error: key: no decision 'x\\x1b[2J\\u202e' in the ledger\n"
    code, out = run(store, ["decisions", "--text", "\u202enothing"])
    assert code == 0 and "decisions: --text \\u202enothing matched nothing" in out, out


# ---------------------------------------------------------------- consistent answers

MISSING = [
    ["audit", "decision", "nosuch"],
    ["replay", "--kind", "decision", "--key", "nosuch"],
    ["history", "decision", "nosuch"],
    ["show", "decision", "nosuch"],
    ["plan", "show", "nosuch"],
    ["targets", "nosuch"],
    ["evidence", "nosuch", "--out", "unused-pack"],
]


@pytest.mark.parametrize("line", MISSING, ids=lambda line: line[0])
def test_an_entity_that_does_not_exist_is_exit_2_for_every_reading_command(
    demo_store: str, line: list[str]
) -> None:
    code, out = run(demo_store, line)
    assert code == 2 and re.fullmatch(r"error: (key|reference): no \w+ 'nosuch' in the "
                                      r"ledger\n", out), out
    if "--kind" in line or line[0] in ("audit", "plan", "targets"):
        code, out = run(demo_store, [*line, "--known-at", "2030-01-01"])
        assert code == 2 and out.endswith("'nosuch' as known at 2030-01-01\n"), out
        assert "as of" not in out


def test_an_entity_missing_only_as_of_the_date_asked_says_that_date(demo_store: str) -> None:
    code, out = run(demo_store, ["audit", "decision", "kpcc-001-2013", "--as-of", "2001-01-01"])
    assert code == 2 and out == "error: key: no decision 'kpcc-001-2013' as of 2001-01-01\n"
    code, out = run(demo_store, ["plan", "show", "kpa-business-plan-2011-12", "--as-of",
                                 "2001-01-01"])
    assert code == 2 and out.endswith("as of 2001-01-01\n"), out
    code, out = run(demo_store, ["replay", "--kind", "decision", "--key", "kpcc-001-2013",
                                 "--until", "3"])
    assert code == 2 and out.endswith("'kpcc-001-2013' up to position 3\n"), out


def test_a_closed_pipe_ends_quietly(main_store: str) -> None:
    """`ledger log | head -1`: the log is larger than a pipe holds, so the writer is still
    writing when the reader leaves."""
    reader = subprocess.Popen([LEDGER, "--store", main_store, "log"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()
    err = reader.stderr.read()
    assert reader.wait(timeout=60) == 0 and err == b""
    assert json.loads(first)["position"] == 1


def test_ctrl_c_during_a_write_exits_130_in_one_line_and_writes_nothing(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt arrives inside the append's transaction, after the event's row and before
    its link: the transaction is rolled back whole."""
    populate(store_url)
    head = table(store_url, "verify").split()[2]
    from ledger.adapters import postgres, store

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(store, "new_links", interrupted)
        patched.setattr(postgres, "new_links", interrupted)
        code, out = run(store_url, RECORD)
    assert (code, out) == (130, "error: interrupted\n")
    assert table(store_url, "verify").split()[2] == head
    code, out = run(store_url, RECORD)
    assert code == 0 and f"at position {int(head) + 1} " in out, out


def test_ctrl_c_while_click_parses_is_130_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "resolve_command", interrupted)
    with CliRunner().isolation() as (out, err, *_):
        assert _run(cli, ["verify"]) == 130
        assert err.getvalue() == b"error: interrupted\n"


def _ctrl_c_at_its_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_real_sigint_during_an_import_leaves_whole_documents(tmp_path: Path) -> None:
    """Ctrl-C as a terminal sends it, during the main job's import: exit 130, one line; each
    document's facts are one append, so the log verifies and a second run completes it to
    the same size as an uninterrupted run.

    The job starts with Ctrl-C at its default, as a terminal's foreground job does: a test
    run started in the background by a shell without job control (`.ci/run &`) has SIGINT
    ignored, every child inherits that, and a job that ignores Ctrl-C rightly runs on
    (``nohup`` relies on it): it then finished with exit 0, which once looked like a bug."""
    env = {**os.environ, "LEDGER_KEY_DIR": str(tmp_path / "keys"), "PYTHONUNBUFFERED": "1"}
    env.pop("LEDGER_STORE_URL", None)
    for attempt in range(3):  # a job that ends (in about 2 s) before the signal is sent
        # was not interrupted: on a busy machine that can happen, so it is tried again
        url = f"sqlite:///{tmp_path}/interrupted-{attempt}.db"
        job = subprocess.Popen([LEDGER, "--store", url, "main"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                               preexec_fn=_ctrl_c_at_its_default)
        assert job.stdout is not None
        while (line := job.stdout.readline()) and "events added" not in line:
            pass
        assert line, "the main job printed no document"
        job.send_signal(signal.SIGINT)
        rest, err = job.communicate(timeout=120)
        if not (job.returncode == 0 and "site:" in rest):
            break
    assert (job.returncode, err) == (130, "error: interrupted\n"), rest[-2000:]
    assert run(url, "verify")[0] == 0
    again = subprocess.run([LEDGER, "--store", url, "main"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    whole = subprocess.run([LEDGER, "--store", fresh, "main"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert "already imported" in again.stdout, again.stdout + again.stderr
    assert table(url, "verify").split()[2] == table(fresh, "verify").split()[2], whole.stderr


def test_digest_to_a_file_writes_it_and_says_so_in_one_line(demo_store: str,
                                                            tmp_path: Path) -> None:
    target = tmp_path / "digest.json"
    code, out = run(demo_store, ["digest", "-o", str(target)])
    kept = json.loads(target.read_text())
    assert code == 0 and out == (f"wrote the digest of position {kept['position']} (head "
                                 f"{kept['head_hash']}) to {target}\n")
    code, out = run(demo_store, ["digest"])
    assert code == 0 and json.loads(out)["position"] == kept["position"]


def test_refusals_use_the_right_article(store: str) -> None:
    code, out = run(store, [*RECORD[:-6], "--as", "auditor1", *RECORD[-4:]])
    assert code == 3 and "an auditor may not record DecisionRecorded" in out, out
    code, out = run(store, ["decision", "sign-off", "kpcc-001", "--signatory", "commissioner",
                            "--as", "officer1", "--effective-at", "2013-05-02",
                            "--source-document", "r"])
    assert code in (2, 3) and " a officer" not in out and "a auditor" not in out, out


def test_the_transition_story_labels_first_mention_dates(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """And the main job keeps to its own store: an exported LEDGER_STORE_URL is ignored."""
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "walkthrough.db"
    monkeypatch.setenv("LEDGER_STORE_URL", f"sqlite:///{elsewhere}")
    with CliRunner().isolation() as (out, err, *_):
        code = _run(cli, ["main"])
        said, warned = out.getvalue().decode(), err.getvalue().decode()
    assert code == 0, said + warned
    assert warned.startswith("note: the main job ignores LEDGER_STORE_URL"), warned
    assert (tmp_path / "events_store" / "ledger.db").exists() and not elsewhere.exists()
    assert re.search(r"^  body hmic \(inspectorate\): first seen in the documents 2010-01-15$",
                     said, re.M)
    assert re.search(r"^  body governance-records \(other\): established \d{4}-", said, re.M)
    assert " from 2010-01-15" not in said


def test_scripts_main_sets_aside_the_walkthroughs_variables(tmp_path: Path) -> None:
    env = {**os.environ, "LEDGER_STORE_URL": "sqlite:///elsewhere.db",
           "LEDGER_KEY_DIR": str(tmp_path / "keys")}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "main"), "--help"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "Usage: ledger main" in done.stdout, done.stderr
    for name in ("LEDGER_STORE_URL", "LEDGER_KEY_DIR"):
        assert f"scripts/main: ignoring {name}=" in done.stderr


# ---------------------------------------------------------------- help and missing options


def test_every_write_commands_help_says_what_each_field_means() -> None:
    from ledger.domain.glossary import meaning

    for group, verb, type_name in VERBS:
        command = cli.commands[group].get_command(None, verb)  # type: ignore[attr-defined]
        assert command is not None
        for param in command.params:
            if isinstance(param, FieldOption):
                said = meaning(param.event, param.field)
                assert said and said.rstrip(".").lower() != param.field.replace("_", " "), (
                    type_name, param.field)
    code, out = run("sqlite:///unused.db", ["decision", "record", "--help"])
    text = " ".join(out.split())
    assert "--title TEXT The decision's title, as the Record of Decision gives it. " \
           "[required]" in text
    assert "--confidentiality [open|confidential]" in text
    assert "--source-document TEXT The document this fact comes from (its id). [required]" \
        in text
    code, out = run("sqlite:///unused.db", ["actor", "add", "--help"])
    text = " ".join(out.split())
    assert "--acts-for TEXT The body the actor records for. [required]" in text
    assert "One of: officer, chief_executive," in text and "records_officer. [required]" in text
    code, out = run("sqlite:///unused.db", ["body", "establish", "--help"])
    assert "pcc_office" in out


def test_help_loads_no_event_model_it_does_not_show() -> None:
    """`ledger --help` loads no event model; a write command's help loads its own module of
    the domain (and the glossary), not the others."""
    script = ("import sys; from ledger.entrypoints.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith(('ledger.domain', "
              "'pydantic'))))")

    def loaded(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                              text=True, timeout=60)
        return list(json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')))

    assert loaded("--help") == []
    modules = loaded("decision", "record", "--help")
    assert {"ledger.domain.decisions", "ledger.domain.glossary"} <= set(modules)
    assert not {"ledger.domain.plans", "ledger.domain.grants", "ledger.domain.inspections",
                "ledger.domain.finance"} & set(modules), modules


def test_a_missing_option_is_named_by_the_option(store: str) -> None:
    before = events_digest(store)
    code, out = run(store, RECORD[:-2])
    assert (code, out) == (2, "error: source-document: missing: give --source-document\n")
    code, out = run(store, [a for a in RECORD if a not in ("--decision", "Approved")])
    assert code == 2 and out.startswith("error: decision: missing: give --decision "), out
    assert events_digest(store) == before


def test_record_fills_role_and_body_from_the_actor(store: str) -> None:
    code, out = run(store, ["record", "DecisionRecorded", "kpcc-009", "--as", "officer1",
                            "--effective-at", "2013-05-01", "--source-document", "r",
                            "-f", "title=T", "-f", "originator=O", "-f",
                            "executive_summary=S", "-f", "decision=D"])
    assert code == 0, out
    recorded = json.loads(table(store, "history", "decision", "kpcc-009").splitlines()[0])
    assert (recorded["role"], recorded["body"]) == ("officer", "kent-pcc")
    code, out = run(store, ["record", "DecisionRecorded", "kpcc-010", "--as", "officer1",
                            "--effective-at", "2013-05-01", "--source-document", "r"])
    assert code == 2 and out.startswith("error: title: missing: give -f title=..."), out


# ---------------------------------------------------------------- progress


def test_long_work_shows_progress_on_a_terminal_and_nothing_otherwise(
    demo_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(demo_store, ["projections", "rebuild"])
    assert code == 0 and out.count("\n") == 1, out  # not a terminal: no progress lines
    monkeypatch.setattr(output, "on_terminal", lambda stream: True)
    monkeypatch.setattr(output.Progress, "DELAY", 0.0)
    monkeypatch.setattr(output.Progress, "EVERY", 0.0)
    for line, label in ((["projections", "rebuild"], "rebuild"), (["verify"], "verify")):
        code, out = run(demo_store, line)
        assert code == 0 and f"\r{label}: " in out and ", ETA " in out, (line, out)
        code, out = run(demo_store, ["--quiet", *line])
        assert code == 0 and "\r" not in out and "ETA" not in out, out


def test_catch_up_before_a_read_shows_progress(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    assert run(url, ["demo"])[0] == 0
    (tmp_path / "demo.projections.db").unlink()
    monkeypatch.setattr(output, "on_terminal", lambda stream: True)
    monkeypatch.setattr(output.Progress, "DELAY", 0.0)
    monkeypatch.setattr(output.Progress, "EVERY", 0.0)
    code, out = run(url, ["decisions", "--as-of", "2020-01-01"])
    assert code == 0 and "\rcatching up the read models: " in out, out


# ---------------------------------------------------------------- the README's words and files


def readme_shell() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)


def test_every_file_a_readme_example_writes_is_ignored_by_git() -> None:
    written = set()
    for block in readme_shell():
        for line in block.splitlines():
            line = line.split("  #")[0]
            written.update(re.findall(r"(?:-o|--out|--public|>)\s+([^\s|;&]+)", line))
    inside = sorted(p for p in written if not p.startswith(("/", "$", "DIR")))
    assert {"digest.json", "events_store/walkthrough/digest.json", "secure.sql"} <= set(inside)
    for path in [*inside, "events_store/evidence-kpcc-2013-001/evidence.json",
                 "events_store/demo.db", "events_store/demo.projections.db"]:
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
        assert done.returncode == 0, f"{path} (written by a README example) is not ignored"


def test_the_readme_states_no_stale_count_of_event_types() -> None:
    from ledger.domain import EVENT_TYPES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for count in re.findall(r"\b(\d+) event types\b", text):
        assert int(count) == len(EVENT_TYPES), f"the README says {count} event types"
