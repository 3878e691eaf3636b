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
from uuid import UUID

from .adapters.chain import (
    Problem,
    Seam,
    Signatures,
    Verification,
    checkpoint_positions,
    payload_digest,
    walk,
)
from .adapters.copy import withheld_positions
from .adapters.store import ChainReader, StoreError
from .domain import DomainError
from .integrity.merkle import node_hash
from .integrity.signatures import KEY_TOPICS, KeyRegistry, key_changes
from .services import Ledger

DIGEST_FORMAT = "ledger-digest/v2"
OLD_DIGEST_FORMAT = "ledger-digest/v1"
"""Digests taken before log ids; they can only be of a store that has no log id either."""
SIGNED = True
"""Whether verify checks signatures (switched on with signed writes)."""
PARALLEL_FROM = 200_000
"""From this many links, ``verify`` walks the chain in segments, one per core."""


class CheckFailed(Exception):
    """Verification found a problem (exit 1): raised where a verified answer was required."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def verify(
    ledger: Ledger,
    digest: dict[str, Any] | None = None,
    progress: Iterator[None] | None = None,
    *,
    processes: int | None = None,
    checkpoints: bool = False,
) -> Verification:
    """Accounts for every row of both tables; with a digest, also proves the log extends it.

    The links at 1..head are walked (in segments on all cores when the chain is long); every
    other link is out of range, and every event that no walked link names is forged. The
    problem reported is the one at the smallest position. ``checkpoints`` keeps the hashes a
    new digest records. A long chain is walked by ``processes`` processes (default: one per
    core, up to 8)."""
    chain = ledger.chain
    census = chain.census()
    head = census.last
    attested = _checkpoints(digest) if digest else {}
    capture = frozenset(attested) | frozenset(checkpoint_positions(head) if checkpoints else ())
    start: Seam = (0, chain.genesis(), 0)
    result = _walk(ledger, head, capture, progress, processes or min(_cores(), 8), start,
                   signatures(chain, head) if SIGNED else None)
    result.log_id = chain.log_id()
    problems = [] if result.problem is None else [result.problem]
    if census.first is not None and census.first < 1:
        problems.append(
            Problem(
                census.first,
                "link out of range",
                f"a chain row at position {census.first} is outside 1..{head}: "
                "it was inserted outside the ledger",
            )
        )
    if not result.ok or census.events != head:
        # when the walk passed, each of its links names a distinct event: as many events as
        # links then leaves none unnamed, and the search (a scan of the log) can be skipped
        forged = _forged(chain, head)
        if forged is not None:
            problems.append(forged)
    if not problems and result.ok:
        tree = _tree_problem(chain, head, result.log_id)
        if tree is not None:
            problems.append(tree)
    if problems:
        first = min(problems, key=lambda p: p.position)
        if first.kind == "payload changed":
            first = _moved(ledger, first, head) or first
        failed = Verification(log_id=result.log_id)
        return failed.fail(first)
    if digest is not None:
        _same_log(digest, result.log_id)
        _compare(result, attested)
    return result


def signatures(chain: ChainReader, head: int) -> Signatures:
    """What checks each link's signature: the keys the log registered, as of each position."""
    from .adapters.keys import verify_signature

    registry = KeyRegistry(key_changes(chain.events_of(KEY_TOPICS, head)))
    return Signatures(chain.log_id(), registry, verify_signature)


def _tree_problem(chain: ChainReader, head: int, log_id: bytes | None) -> Problem | None:
    """Rebuilds the Merkle tree from the chain rows, level by level, and compares every stored
    node with it: proofs are answered from those nodes, so each must be the one the log gives.
    Reports the mismatch covering the earliest position."""
    if not chain.has_tree():
        if log_id is None:
            return None  # a store made before log ids (and trees)
        return Problem(1, "tree mismatch", "the store keeps no Merkle tree")
    found: list[Problem] = []
    current = list(chain.leaves(head))
    level = 0
    while True:
        wrong = _level_problem(chain.tree_level(level), current)
        if wrong is not None:
            idx, what = wrong
            found.append(Problem((idx << level) + 1, "tree mismatch",
                                 f"tree node ({level}, {idx}) {what}"))
        if len(current) < 2:
            break
        current = [node_hash(current[i], current[i + 1]) for i in range(0, len(current) - 1, 2)]
        level += 1
    expected = sum(head >> k for k in range(head.bit_length()))
    if not found and chain.tree_count() != expected:
        found.append(Problem(1, "tree mismatch", f"the tree holds {chain.tree_count()} nodes; "
                             f"the log gives {expected}"))
    return min(found, key=lambda p: p.position) if found else None


def _level_problem(
    stored: Iterator[tuple[Any, Any]], expected: list[bytes]
) -> tuple[int, str] | None:
    """The first stored node of a level that is not the expected one (index, what is wrong)."""
    count = 0
    for count, (idx, value) in enumerate(stored, start=1):
        i = count - 1
        if i >= len(expected):
            return idx, "is beyond the log"
        if idx != i:
            return (i, "is missing") if idx > i else (idx, "is there twice")
        if bytes(value) != expected[i]:
            return i, "is not the one the log gives"
    return (count, "is missing") if count < len(expected) else None


def _forged(chain: ChainReader, head: int) -> Problem | None:
    """The earliest event no link in 1..head names, at the position where it claims a place."""
    unlinked = chain.first_unlinked(head)
    if unlinked is None:
        return None
    nid, version, topic = unlinked
    return Problem(
        chain.position_before(nid, head) + 1,
        "forged event",
        f"notification {nid} ({topic} v{version}) has no link: it was inserted outside the ledger",
    )


def _walk(
    ledger: Ledger,
    head: int,
    capture: frozenset[int],
    progress: Iterator[None] | None,
    processes: int,
    start: Seam,
    checks: Signatures | None,
) -> Verification:
    """Walks positions 1..head, in segments on all cores when the chain is long.

    Every link is checked against the stored hash of the link before it, so segments verify
    independently: segment k starts from the stored link at its seam, and must end exactly at
    the next seam, or the link there was deleted. Results are read in position order, so the
    first problem reported is the same one a single walk would find.
    """
    parts = processes if head >= PARALLEL_FROM else 1
    text_ids = ledger.chain.sqlite
    hidden = _withheld(ledger.chain)
    if parts == 1:
        return walk(ledger.chain.rows(until=head), capture, progress, start, text_ids=text_ids,
                    signatures=checks, withheld=hidden)
    seams = [head * k // parts for k in range(parts + 1)]
    others = [_start_segment(ledger.location.url, seams[k], seams[k + 1], capture,
                             checks is not None, head)
              for k in range(1, parts)]
    ticks = None if progress is None else _scaled(progress, parts)
    try:
        results = [walk(ledger.chain.rows(until=seams[1]), capture, ticks, start,
                        text_ids=text_ids, signatures=checks, withheld=hidden)]
        for other in others:
            last = results[-1]
            if not last.ok or last.head_position != seams[len(results)]:
                break  # the answer is already known: a problem, or a segment ended early
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
                    "link missing",
                    f"the chain jumps from {end} to {after}: links {end + 1}..{(after or 0) - 1} "
                    "were deleted",
                )
            )
        joined.captured.update(result.captured)
        for signer, count in result.signers.items():
            joined.signers[signer] = joined.signers.get(signer, 0) + count
        joined.withheld += result.withheld
        joined.head_position, joined.head_hash = end, result.head_hash
    return joined


_SEGMENT = "import os, sys; from ledger.audit import _segment; " \
    "_segment(os.environ['LEDGER_VERIFY_SEGMENT'], sys.stdout.buffer)"


def _start_segment(
    url: str, after: int, until: int, capture: frozenset[int], signed: bool, head: int
) -> Popen[bytes]:
    """A fresh interpreter, not multiprocessing: callers need no ``__main__`` guard. The job
    goes in the environment, not the arguments, where anyone could read the store's URL."""
    job = json.dumps([url, after, until, sorted(capture), signed, head])
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
    url, after, until, positions, signed, head = json.loads(job)
    capture = frozenset(positions)
    with Ledger(url, mode="read") as ledger:
        start = ledger.chain.seam(after)
        if start is None:  # the link at the seam is gone; the segment before reports it
            result = Verification(head_position=after)
        else:
            checks = signatures(ledger.chain, head) if signed else None
            result = walk(ledger.chain.rows(after, until), capture, start=start,
                          text_ids=ledger.chain.sqlite, signatures=checks,
                          withheld=_withheld(ledger.chain))
    answer.write(pickle.dumps(result))


def _withheld(chain: ChainReader) -> frozenset[int]:
    """The positions a public copy says it withholds (none in a master store, where a NULL
    salt is a malformed row like any other)."""
    return frozenset(withheld_positions(chain) or ())


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


def _moved(ledger: Ledger, problem: Problem, head: int) -> Problem | None:
    """A changed payload that another link committed to means events were reordered."""
    here = next(ledger.chain.rows(problem.position - 1, problem.position), None)
    if here is None or type(here[9]) is not bytes:
        return None
    for other in ledger.chain.rows(until=head):
        position, salt, digest = other[0], other[2], other[3]
        if (
            position != problem.position
            and type(salt) is bytes
            and payload_digest(salt, here[9]) == digest
        ):
            return Problem(
                problem.position,
                "order changed",
                f"the event stored here is the one the chain has at position {position}",
            )
    return None


def _same_log(digest: dict[str, Any], log_id: bytes | None) -> None:
    theirs = digest.get("log_id")
    ours = None if log_id is None else str(UUID(bytes=log_id))
    if theirs != ours:
        raise DomainError(
            "digest",
            f"the digest is of log {theirs or '(none: taken before log ids)'}, "
            f"this store is log {ours or '(none: created before log ids)'}",
        )


def _compare(result: Verification, checkpoints: dict[int, bytes]) -> None:
    """The first checkpoint that differs names a rewrite (exactly, or the start of its window);
    only when every checkpoint the log still reaches matches is a shorter log 'truncated'."""
    last_good = 0
    for position in sorted(checkpoints):
        if position > result.head_position:
            break
        if result.captured.get(position) != checkpoints[position]:
            where = (
                f"the link at {position} differs from the digest"
                if position == last_good + 1
                else f"a link in {last_good + 1}..{position} differs from the digest"
            )
            result.fail(
                Problem(
                    last_good + 1,
                    "rewritten",
                    f"{where}: history was edited and re-hashed after the digest was taken",
                )
            )
            return
        last_good = position
    attested = max(checkpoints, default=0)
    if result.head_position < attested:
        unchecked = (
            f"; links {last_good + 1}..{result.head_position} fall between the digest's "
            "checkpoints and may have been rewritten too"
            if last_good < result.head_position
            else ""
        )
        result.fail(
            Problem(
                last_good + 1,
                "truncated",
                f"the digest attests {attested} events; the log now ends at "
                f"{result.head_position}{unchecked}",
            )
        )


def take_digest(ledger: Ledger) -> dict[str, Any]:
    """A verified snapshot an auditor keeps: log id, head position and hash, checkpoints.

    It verifies exactly as ``verify`` does, and refuses (CheckFailed) a chain that fails."""
    result = verify(ledger, checkpoints=True)
    if result.problem is not None:
        raise CheckFailed(result.problem)
    positions = checkpoint_positions(result.head_position)
    return {
        "format": DIGEST_FORMAT,
        "log_id": None if result.log_id is None else str(UUID(bytes=result.log_id)),
        "position": result.head_position,
        "head_hash": result.head_hash.hex(),
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checkpoints": [[p, result.captured[p].hex()] for p in positions],
    }


def load_digest(path: Path) -> dict[str, Any]:
    """A digest file, checked for shape: one line naming what is wrong (exit 2) otherwise."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise DomainError("digest", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DomainError("digest", f"{path} is not a text file") from None
    except json.JSONDecodeError as exc:
        raise DomainError("digest", f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") not in (DIGEST_FORMAT, OLD_DIGEST_FORMAT):
        raise DomainError("digest", f"{path} is not a {DIGEST_FORMAT} digest")
    log_id = data.get("log_id")
    if data["format"] == DIGEST_FORMAT:
        try:
            data["log_id"] = None if log_id is None else str(UUID(log_id))
        except (TypeError, ValueError, AttributeError):
            raise DomainError("digest", f"log_id: '{log_id}' is not a log id") from None
    else:
        data["log_id"] = None
    _checkpoints(data)
    return data


def _checkpoints(digest: dict[str, Any]) -> dict[int, bytes]:
    points: dict[int, bytes] = {}
    try:
        head = _position(digest["position"], "position", allow_zero=True)
        for item in digest.get("checkpoints", []):
            position, hash_ = item
            points[_position(position, "checkpoints", allow_zero=False)] = _hash(hash_)
        if head:
            points[head] = _hash(digest["head_hash"])
    except (KeyError, TypeError, ValueError):
        raise DomainError(
            "digest", "malformed: needs position, head_hash and checkpoints"
        ) from None
    beyond = [p for p in points if p > head]
    if beyond:
        raise DomainError("digest", f"checkpoints: position {beyond[0]} is beyond the head {head}")
    return points


def _position(value: Any, name: str, *, allow_zero: bool) -> int:
    if type(value) is not int or value < (0 if allow_zero else 1) or value >= 2**63:
        raise DomainError("digest", f"{name}: {value!r} is not a chain position")
    return value


def _hash(value: Any) -> bytes:
    raw = bytes.fromhex(value)
    if len(raw) != 32:
        raise DomainError("digest", f"'{str(value)[:80]}' is not a 32-byte SHA-256 hash")
    return raw
