"""A writer killed with SIGKILL in the middle of a large batch leaves a store that verifies,
with the batch either whole or absent."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ledger.audit import verify

from helpers import authority, grant, open_ledger

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    from helpers import grant, open_ledger
    from ledger.adapters import postgres, store
    from ledger.services import Ledger
    url, size = sys.argv[1], int(sys.argv[2])

    def announce(cls, name):
        original = getattr(cls, name)
        def wrapped(self, *args, **kwargs):
            print("writing", flush=True)
            return original(self, *args, **kwargs)
        setattr(cls, name, wrapped)

    announce(store.SQLiteChainRecorder, "_insert_events")
    announce(postgres.PostgresChainRecorder, "insert_events")
    ledger = open_ledger(url)
    facts = [grant(f"bulk-{n}") for n in range(size)]
    ledger.record(facts)
    print("done", flush=True)
""")


@pytest.mark.slow
def test_sigkill_mid_batch_leaves_the_batch_whole_or_absent(
    store_url: str, tmp_path: Path
) -> None:
    size = 20_000
    with open_ledger(store_url) as ledger:
        ledger.record([authority()])
        before = ledger.chain.event_count()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), store_url, str(size), str(Path(__file__).parent)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line == "writing", child.stderr.read() if child.stderr else line
    time.sleep(0.15)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    finished = child.returncode == 0  # a very fast machine may finish first: then all is there

    with open_ledger(store_url) as ledger:
        after = ledger.chain.event_count()
        assert child.returncode in (0, -signal.SIGKILL)
        assert after == before + size if finished else after in (before, before + size)
        result = verify(ledger)
        assert result.ok and result.head_position == after
        ledger.record([grant("after-the-crash")])
        assert verify(ledger).ok and ledger.chain.event_count() == after + 1
