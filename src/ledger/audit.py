"""Auditors' services: verify the hash chain, take a digest, prove the log extends a digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .adapters.chain import Problem, Verification, checkpoint_positions, payload_digest, walk
from .domain import DomainError
from .services import Ledger

DIGEST_FORMAT = "ledger-digest/v1"


def verify(
    ledger: Ledger, digest: dict[str, Any] | None = None, progress: Iterator[None] | None = None
) -> Verification:
    """Recomputes the whole chain; with a digest, also proves the log extends it."""
    chain = ledger.chain
    checkpoints = _checkpoints(digest) if digest else {}
    limit: int | None = None
    forged: Problem | None = None
    unlinked = chain.first_unlinked()
    if unlinked is not None:
        nid, version, topic = unlinked
        position = chain.position_before(nid) + 1
        forged = Problem(
            position,
            "forged event",
            f"notification {nid} ({topic} v{version}) has no link: it was inserted outside the "
            "ledger",
        )
        limit = position - 1
    result = walk(chain.rows(until=limit), frozenset(checkpoints), progress)
    if not result.ok:
        assert result.problem is not None
        if result.problem.kind == "payload changed":
            result.problem = _moved(ledger, result.problem) or result.problem
        return result
    if forged is not None:
        return result.fail(forged)
    if checkpoints:
        _compare(result, checkpoints)
    return result


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
