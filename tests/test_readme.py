"""The README's examples run exactly as written, pasted into bash in a fresh folder.

The shell blocks are read from README.md itself, so a test fails as soon as the README's
commands stop working, or its stated output stops being what they print. Each block runs in a
temporary folder standing for a fresh clone:
- its `.venv` is a link to this venv, so the block's own `source .venv/bin/activate` puts
  `ledger` on PATH, and nothing else does;
- HOME is a temporary folder too, so no key can come from, or land in, the real home.
An ERR trap logs every command that fails: only the failures the README announces may appear.

The walk-through names a SQLite store, so it runs on SQLite only: on another backend it would
not be the README's text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VENV = Path(sys.prefix)

WALKTHROUGH = "### Walk-through"
USING = "## Using the ledger"
PEOPLE = ["admin", "officer1", "ce", "ann", "panel1", "auditor1"]
SIGNERS = "15 events checked, 15 signatures checked; signers: admin 7, ann 3, ce 2, officer1 3"
REFUSAL = "error: not permitted: role: a panel_member may not record DecisionRecorded ("
UNMATCHED = "decisions: --text Marlowe matched nothing"


def section(title: str) -> str:
    """The README's section whose heading starts with ``title``, up to the next heading of its
    level or above (lines inside code fences are never headings)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    fence, start, level = False, None, 0
    for number, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
            continue
        heading = None if fence else re.match(r"(#{1,6}) ", line)
        if heading is None:
            continue
        if start is not None and len(heading.group(1)) <= level:
            return "\n".join(lines[start:number])
        if start is None and line.startswith(title):
            start, level = number, len(heading.group(1))
    assert start is not None, f"README.md has no heading {title!r}"
    return "\n".join(lines[start:])


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)


@dataclass
class Paste:
    code: int
    out: str
    err: str
    failed: list[str]
    """Each command that exited non-zero, as the ERR trap logged it: "CODE: COMMAND"."""


class Clone:
    """A fresh clone's folder, as far as the README's examples need one."""

    def __init__(self, tmp: Path) -> None:
        assert (VENV / "bin" / "activate").exists(), f"the tests must run in a venv, not {VENV}"
        self.folder = tmp / "clone"
        self.home = tmp / "home"
        self.harness = tmp / "harness"
        for folder in (self.folder, self.home, self.harness):
            folder.mkdir()
        (self.folder / ".venv").symlink_to(VENV, target_is_directory=True)
        shutil.copy(ROOT / ".gitignore", self.folder / ".gitignore")
        self.git("init", "-q")
        self.pastes = 0

    def git(self, *args: str) -> str:
        """git in the clone, with the project's .gitignore as the only ignore rules."""
        env = {**os.environ, "HOME": str(self.home), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull}
        return subprocess.run(["git", *args], cwd=self.folder, env=env, check=True,
                              capture_output=True, text=True).stdout

    def paste(self, block: str) -> Paste:
        """Runs ``block`` as a shell would run it pasted: line by line, going on after a failure."""
        self.pastes += 1
        script = self.harness / f"paste{self.pastes}.sh"
        failures = self.harness / f"failed{self.pastes}.log"
        script.write_text(block, encoding="utf-8")
        wrapper = ("set -E; trap 'echo \"$?: $BASH_COMMAND\" >> \"$README_FAILURES\"' ERR\n"
                   'source "$README_PASTE"\n'
                   'echo "left set: ${LEDGER_STORE_URL-} ${LEDGER_KEY_DIR-}"\n')
        bin_dir = str(VENV / "bin")
        path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != bin_dir)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("LEDGER_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env.update(HOME=str(self.home), PATH=path, README_PASTE=str(script),
                   README_FAILURES=str(failures))
        done = subprocess.run(["bash", "-c", wrapper], cwd=self.folder, env=env,
                              capture_output=True, text=True, timeout=600)
        failed = failures.read_text().splitlines() if failures.exists() else []
        return Paste(done.returncode, done.stdout, done.stderr, failed)

    def unignored(self) -> list[str]:
        """Files written in the clone that git would offer to commit."""
        listed = self.git("status", "--porcelain", "--untracked-files=all").splitlines()
        return [line[3:] for line in listed if line[3:] not in (".gitignore", ".venv")]


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    return Clone(tmp_path)


def normalised(text: str) -> str:
    """Output with what differs between two logs (ids, keys, hashes, times) blanked."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"ed25519:[A-Za-z0-9+/=]+", "KEY", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "HASH", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", "TIME", text)


def check_walkthrough(clone: Clone, run: Paste) -> str:
    """Asserts what the README says the walk-through shows; returns the log id it made."""
    assert run.code == 0, run.err
    announced = [f for f in run.failed if f.startswith("3: ") and "--as panel1" in f]
    assert len(announced) == 1 and announced == run.failed, run.failed
    said = run.err.splitlines()  # the refusal, and the public's search that finds nothing
    assert len(said) == 2 and said[0].startswith(REFUSAL), run.err
    assert said[1] == UNMATCHED, run.err
    out = run.out
    created = re.search(r"^created the log (\S+) at sqlite events_store/walkthrough/ledger.db: "
                        r"body kent-pcc, administrator admin$", out, re.M)
    assert created, out
    for actor in PEOPLE:
        assert re.search(rf"^{actor}\s+\S.*kent-pcc", out, re.M), f"{actor} not in the actors"
    for position, kind in ((8, "OfficeTermStarted"), (9, "DecisionRecorded"),
                           (10, "DecisionSignedOff"), (11, "DecisionSignedOff"),
                           (12, "DecisionPublished"), (13, "DecisionRecorded"),
                           (14, "InterestDeclared"), (15, "EventRedacted")):
        assert f"recorded {kind} at position {position} " in out
    assert "\nexit 3\n" in out
    # the confidential decision: the public finds nothing by its words, its auditor does; the
    # Panel member reads them withheld, with the reason; the redacted interest is withheld too
    assert re.search(r"^\(nothing\)\n.*\nkpcc-2013-003 ", out, re.M)
    assert '"decision": "withheld (FOIA 2000 s.43(2) commercial interests)"' in out
    assert "Her sister" not in out and "withheld (UK GDPR art. 6" in out
    assert "a public copy: 2 payloads withheld" in out
    # the replay stops at the decision as recorded, before either sign-off
    assert re.search(r"^9\s+DecisionRecorded\s", out, re.M)
    assert not re.search(r"^10\s+DecisionSignedOff\s", out, re.M)
    # nothing was written by the refusal: the head is still the publication, in both verifies
    # (the public copy's verify gives the same head, log and signatures as the master's)
    assert len(re.findall(r"^OK position 15 hash [0-9a-f]{64}", out, re.M)) == 3
    assert re.search(r"^OK position 15 hash [0-9a-f]{64} \(extends digest at 15\)$", out, re.M)
    assert out.count(f"log {created.group(1)}\n") == 3
    assert out.count(SIGNERS + "\n") == 3
    assert "wrote the evidence pack for kpcc-2013-001" in out
    assert "left set:  \n" in out  # the walk-through unset both variables

    own = clone.folder / "events_store" / "walkthrough"
    digest = json.loads((own / "digest.json").read_text())
    assert (digest["position"], digest["log_id"]) == (15, created.group(1))
    assert any((own / "evidence-kpcc-2013-001").iterdir())
    keys = sorted(own.glob("keys/*.key"))
    # the people's keys, and the log's own key (which signs the evidence pack's checkpoint)
    assert {k.stem for k in keys} - {f"log-{created.group(1)}"} == set(PEOPLE)
    assert {stat.S_IMODE(k.stat().st_mode) for k in keys} == {0o600}
    # neither the main job's store nor the default key directory was touched
    assert not (clone.folder / "events_store" / "ledger.db").exists()
    assert not (clone.home / ".config").exists()
    assert clone.unignored() == []
    return created.group(1)


def test_the_walkthrough_runs_as_written_and_again(clone: Clone) -> None:
    text = section(WALKTHROUGH)
    for claim in (SIGNERS, REFUSAL.removeprefix("error: "), UNMATCHED, "OK position 15 hash",
                  "(extends digest at 15)", "rm -rf events_store/walkthrough"):
        assert claim in text, f"the README no longer says {claim!r}"
    (block,) = shell_blocks(text)

    first = clone.paste(block)
    first_log = check_walkthrough(clone, first)
    again = clone.paste(block)  # pasting it twice starts afresh, as the README says
    assert check_walkthrough(clone, again) != first_log
    assert normalised(again.out) == normalised(first.out)


def test_the_demo_tour_runs_as_written_and_again(clone: Clone) -> None:
    blocks = [b for b in shell_blocks(section(USING)) if "\nledger demo" in b]
    assert len(blocks) == 1, "the README's tour of the demo store is one shell block"
    (block,) = blocks
    claimed = re.search(r"verify +# OK position (\d+) hash \.\.\.; (signers: .*)$", block, re.M)
    assert claimed, "the README no longer says what verify prints on the demo store"
    head, signers = int(claimed.group(1)), claimed.group(2)

    for run in (clone.paste(block), clone.paste(block)):
        assert run.code == 0 and run.failed == [] and run.err == "", (run.failed, run.err)
        assert len(re.findall(rf"^OK position {head} hash [0-9a-f]{{64}}", run.out, re.M)) == 2
        assert f"(extends digest at {head})" in run.out
        assert f"signatures checked; {signers}\n" in run.out
        assert re.search(r"^kent-pcc-policy-officer\s", run.out, re.M)
        assert json.loads((clone.folder / "digest.json").read_text())["position"] == head
    assert f"the store already holds {head} events: recording nothing" in run.out
    assert clone.unignored() == []
