"""Auditors' services: verify the hash chain, take a digest, prove the log extends a digest."""

from __future__ import annotations

import json
import os
import pickle
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from subprocess import PIPE, Popen
from typing import Any, BinaryIO

from .adapters.chain import Problem, Verification, checkpoint_positions, payload_digest, walk
from .adapters.store import ChainReader, StoreError
from .domain import DomainError
from .services import Ledger

DIGEST_FORMAT = "ledger-digest/v1"
PARALLEL_FROM = 200_000
"""From this many links, ``verify`` walks the chain in segments, one per core."""


def verify(
    ledger: Ledger,
    digest: dict[str, Any] | None = None,
    progress: Iterator[None] | None = None,
    *,
    processes: int | None = None,
) -> Verification:
    """Recomputes the whole chain; with a digest, also proves the log extends it.

    A long chain is walked by ``processes`` processes (default: one per core, up to 8)."""
    chain = ledger.chain
    checkpoints = _checkpoints(digest) if digest else {}
    # as many events as links, and the walk proves each link has its own event: then none is
    # unlinked, and the search for a forged event (a scan of the whole log) can be skipped
    forged = None if chain.as_many_events_as_links() else _forged(chain)
    head = chain.head()[0] if forged is None else forged.position - 1
    result = _walk(ledger, head, frozenset(checkpoints), progress, processes or min(_cores(), 8))
    if not result.ok:
        assert result.problem is not None
        if forged is None:  # counted equal: a forged event may hide behind a deleted one
            forged = _forged(chain)
        if forged is not None and forged.position <= result.problem.position:
            return Verification().fail(forged)
        if result.problem.kind == "payload changed":
            result.problem = _moved(ledger, result.problem) or result.problem
        return result
    if forged is not None:
        return result.fail(forged)
    if checkpoints:
        _compare(result, checkpoints)
    return result


def _forged(chain: ChainReader) -> Problem | None:
    """The earliest event with no link, as the position where it claims a place."""
    unlinked = chain.first_unlinked()
    if unlinked is None:
        return None
    nid, version, topic = unlinked
    return Problem(
        chain.position_before(nid) + 1,
        "forged event",
        f"notification {nid} ({topic} v{version}) has no link: it was inserted outside the ledger",
    )


def _walk(
    ledger: Ledger,
    head: int,
    capture: frozenset[int],
    progress: Iterator[None] | None,
    processes: int,
) -> Verification:
    """Walks positions 1..head, in segments on all cores when the chain is long.

    Every link is checked against the stored hash of the link before it, so segments verify
    independently: segment k starts from the stored link at its seam, and must end exactly at
    the next seam, or the link there was deleted. Results are read in position order, so the
    first problem reported is the same one a single walk would find.
    """
    parts = processes if head >= PARALLEL_FROM else 1
    if parts == 1:
        return walk(ledger.chain.rows(until=head), capture, progress)
    seams = [head * k // parts for k in range(parts + 1)]
    others = [_start_segment(ledger.location.url, seams[k], seams[k + 1], capture)
              for k in range(1, parts)]
    ticks = None if progress is None else _scaled(progress, parts)
    try:
        results = [walk(ledger.chain.rows(until=seams[1]), capture, ticks)]
        for other in others:
            if not results[-1].ok:  # the answer is already known
                break
            results.append(_finish_segment(other))
    finally:
        for other in others:
            if other.poll() is None:
                other.kill()
                other.communicate()
    joined = Verification()
    for k, result in enumerate(results):
        if not result.ok:
            return result
        end = result.head_position
        if k + 1 < parts and end != seams[k + 1]:
            after = ledger.chain.next_position(end)
            return Verification().fail(
                Problem(
                    end + 1,
                    "position missing",
                    f"the chain jumps from {end} to {after}: links {end + 1}..{(after or 0) - 1} "
                    "were deleted",
                )
            )
        joined.captured.update(result.captured)
        joined.head_position, joined.head_hash = end, result.head_hash
    return joined


_SEGMENT = "import os, sys; from ledger.audit import _segment; " \
    "_segment(os.environ['LEDGER_VERIFY_SEGMENT'], sys.stdout.buffer)"


def _start_segment(url: str, after: int, until: int, capture: frozenset[int]) -> Popen[bytes]:
    """A fresh interpreter, not multiprocessing: callers need no ``__main__`` guard. The job
    goes in the environment, not the arguments, where anyone could read the store's URL."""
    job = json.dumps([url, after, until, sorted(capture)])
    return Popen([sys.executable, "-c", _SEGMENT], stdout=PIPE, stderr=PIPE,
                 env={**os.environ, "LEDGER_VERIFY_SEGMENT": job})


def _finish_segment(child: Popen[bytes]) -> Verification:
    out, err = child.communicate()
    if child.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise StoreError(f"store: a verify segment failed: {last}")
    result: Verification = pickle.loads(out)  # our own child's answer
    return result


def _segment(job: str, answer: BinaryIO) -> None:
    """One segment, in its own process (see ``_walk``)."""
    url, after, until, positions = json.loads(job)
    capture = frozenset(positions)
    with Ledger(url, create=False) as ledger:
        start = ledger.chain.seam(after)
        if start is None:  # the link at the seam is gone; the segment before reports it
            result = Verification(head_position=after)
        else:
            result = walk(ledger.chain.rows(after, until), capture, start=start)
    answer.write(pickle.dumps(result))


def _scaled(progress: Iterator[None], times: int) -> Iterator[None]:
    """One tick per event walked here stands for ``times`` events walked on all cores."""
    while True:
        for _ in range(times):
            next(progress, None)
        yield None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _moved(ledger: Ledger, problem: Problem) -> Problem | None:
    """A changed payload that another link committed to means events were reordered."""
    here = next(ledger.chain.linked(problem.position - 1, problem.position), None)
    if here is None or here.state is None:
        return None
    for other in ledger.chain.linked():
        link = other.link
        if (
            link.position != problem.position
            and payload_digest(link.salt, here.state) == link.payload_digest
        ):
            return Problem(
                problem.position,
                "order changed",
                f"the event stored here is the one the chain has at position {link.position}",
            )
    return None


def _compare(result: Verification, checkpoints: dict[int, bytes]) -> None:
    attested = max(checkpoints)
    if result.head_position < attested:
        result.fail(
            Problem(
                result.head_position + 1,
                "truncated",
                f"the digest attests {attested} events; the log now ends at {result.head_position}",
            )
        )
        return
    last_good = 0
    for position in sorted(checkpoints):
        if result.captured.get(position) != checkpoints[position]:
            where = (
                f"the link at {position} differs from the digest"
                if position == last_good + 1
                else f"a link in {last_good + 1}..{position} differs from the digest"
            )
            result.fail(
                Problem(
                    position if position == last_good + 1 else last_good + 1,
                    "rewritten",
                    f"{where}: history was edited and re-hashed after the digest was taken",
                )
            )
            return
        last_good = position


def take_digest(ledger: Ledger) -> dict[str, Any]:
    """A verified snapshot an auditor keeps: head position and hash, plus checkpoints."""
    head, _ = ledger.chain.head()
    positions = checkpoint_positions(head)
    result = walk(ledger.chain.rows(until=head), frozenset(positions))
    if not result.ok:
        raise DomainError(
            "store", f"refusing to digest a chain that fails verification: {result.problem}"
        )
    return {
        "format": DIGEST_FORMAT,
        "position": result.head_position,
        "head_hash": result.head_hash.hex(),
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checkpoints": [[p, result.captured[p].hex()] for p in positions],
    }


def load_digest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise DomainError("digest", f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise DomainError("digest", f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != DIGEST_FORMAT:
        raise DomainError("digest", f"{path} is not a {DIGEST_FORMAT} digest")
    _checkpoints(data)
    return data


def _checkpoints(digest: dict[str, Any]) -> dict[int, bytes]:
    try:
        points = {int(p): bytes.fromhex(h) for p, h in digest.get("checkpoints", [])}
        points[int(digest["position"])] = bytes.fromhex(digest["head_hash"])
    except (KeyError, TypeError, ValueError):
        raise DomainError(
            "digest", "malformed: needs position, head_hash and checkpoints"
        ) from None
    points.pop(0, None)
    return points
