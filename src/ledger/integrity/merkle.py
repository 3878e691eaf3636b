"""The log's Merkle tree (RFC 9162 section 2.1, the same hashing as RFC 6962). Pure: no database.

Why a tree beside the hash chain: the chain proves a log is whole only to someone who walks all
of it; the tree gives O(log n) proofs that one event is in a log (inclusion) and that a later
log extends an earlier one (consistency), in the form every transparency-log tool checks.

Hashing (RFC 9162 2.1.1), SHA-256:

    leaf hash = SHA-256(0x00 || leaf data)
    node hash = SHA-256(0x01 || left || right)
    the root of n > 1 leaves = node hash(root of the first k, root of the other n - k), k the
    largest power of two below n; the root of no leaves is SHA-256 of nothing.

The leaf for chain position p (leaf index p - 1), version 1:

    leaf data = "ledger-leaf/v1" 0x00
                || uint64_be(position)
                || link hash (32 bytes: the chain row's hash_n)
                || payload digest (32 bytes: the salted digest, so a withheld payload still
                   verifies)
                || uint32_be(len(signer)) || signer (UTF-8, the signing actor's id)
                || uint32_be(len(key_id)) || key_id (8 bytes)
                || uint32_be(len(signed_at)) || signed_at (UTF-8, ISO 8601 UTC)
                || uint32_be(len(signature)) || signature (Ed25519, 64 bytes)

An unsigned row (made before signing) has an empty signer, key id, signed_at and signature. The
leaf binds who signed and when, so an evidence pack shows them authenticated by the signed
checkpoint even to a reader without the signer's key.

Storage: the store keeps the hash of every complete (perfect) subtree, addressed (level, index):
the subtree of the leaves [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf
hashes. ``nodes_to_store`` (or ``Frontier.append``) gives the rows an append completes, so they
go in the append's transaction. Given ``node(level, index)`` reading them, ``tree_root``,
``inclusion_proof`` and ``consistency_proof`` each make O(log n) calls, never a pass over the
log; ``*_nodes`` list the addresses each will read, so a store can fetch them in one query.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"ledger-leaf/v1\x00"

Node = Callable[[int, int], bytes]
"""node(level, index): the stored hash of the perfect subtree over leaves
[index * 2**level, (index + 1) * 2**level)."""
Row = tuple[int, int, bytes]
"""(level, index, hash) of a perfect subtree."""

_POSITION = struct.Struct(">Q")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def leaf_data(
    position: int,
    link_hash: bytes,
    payload_digest: bytes,
    *,
    signer: str | None,
    key_id: bytes | None,
    signed_at: str | None,
    signature: bytes | None,
) -> bytes:
    """The leaf for a chain row (see the module docstring); None is an unsigned row's column."""
    if position < 1:
        raise ValueError(f"position: {position} is not a chain position (1, 2, ...)")
    if len(link_hash) != HASH_SIZE:
        raise ValueError(f"link hash: {len(link_hash)} bytes, not {HASH_SIZE}")
    if len(payload_digest) != HASH_SIZE:
        raise ValueError(f"payload digest: {len(payload_digest)} bytes, not {HASH_SIZE}")
    return (
        LEAF_PREFIX
        + _POSITION.pack(position)
        + link_hash
        + payload_digest
        + _field((signer or "").encode())
        + _field(key_id or b"")
        + _field((signed_at or "").encode())
        + _field(signature or b"")
    )


def _split(size: int) -> int:
    """The largest power of two below ``size`` (size >= 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, computed in memory (a rebuild, or a small tree)."""
    frontier = Frontier()
    for leaf in leaf_hashes:
        frontier.append(leaf)
    return frontier.root()


# --- Reading a stored tree -----------------------------------------------------------------


def _pieces(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees, left to right, whose leaves are exactly [start, end); ``start``
    is aligned as every subtree of an RFC 9162 tree is (a multiple of a power of two at least
    end - start), so each piece is a stored node."""
    pieces = []
    while start < end:
        level = (end - start).bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


def _range_hash(start: int, end: int, node: Node) -> bytes:
    """MTH(D[start:end]) from stored nodes: one call per set bit of end - start."""
    hashes = [node(level, index) for level, index in _pieces(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def tree_root(size: int, node: Node) -> bytes:
    """The root of the tree's first ``size`` leaves."""
    if size < 0:
        raise ValueError(f"tree size: {size} is negative")
    return EMPTY_ROOT if size == 0 else _range_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: Node) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 2.1.3.1, bottom up: the sibling of each subtree on the
    way from the leaf to the root. At most one sibling is not a stored node (the right part of
    a tree whose size is not a power of two), so calls are below 2 * log2(size) + 2."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        width = end - start
        if width & (width - 1) == 0:  # a perfect subtree: every sibling below is stored
            level = width.bit_length() - 1
            path.extend(node(lv, (index >> lv) ^ 1) for lv in range(level - 1, -1, -1))
            break
        k = _split(width)
        if index < start + k:
            path.append(_range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(node(k.bit_length() - 1, start // k))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, node: Node) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 2.1.4.1: the nodes that let a holder of the old
    root compute the new one from it. Empty when the sizes are equal; a proof from an empty
    tree does not exist (every tree extends it: check the old root is ``EMPTY_ROOT``)."""
    if not 0 < old_size <= new_size:
        raise ValueError(
            f"no consistency proof from {old_size} to {new_size} leaves (needs 0 < old <= new)"
        )
    if old_size == new_size:
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        width = end - start
        if m == width:
            # SUBPROOF(m, D[m], b): nothing when this is the old tree itself, else its root.
            if not whole:
                proof.append(_range_hash(start, end, node))
            break
        k = _split(width)
        if m <= k:
            proof.append(_range_hash(start + k, end, node))
            end = start + k
        else:
            proof.append(node(k.bit_length() - 1, start // k))
            start += k
            m -= k
            whole = False
    proof.reverse()
    return proof


def _addresses(compute: Callable[[Node], object]) -> list[tuple[int, int]]:
    """The node addresses ``compute`` reads, in order (they do not depend on the hashes)."""
    seen: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        seen.append((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return list(dict.fromkeys(seen))


def root_nodes(size: int) -> list[tuple[int, int]]:
    """The (level, index) addresses ``tree_root(size, node)`` reads."""
    return _addresses(lambda node: tree_root(size, node))


def inclusion_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """The addresses ``inclusion_proof(index, size, node)`` reads."""
    return _addresses(lambda node: inclusion_proof(index, size, node))


def consistency_nodes(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The addresses ``consistency_proof(old_size, new_size, node)`` reads."""
    return _addresses(lambda node: consistency_proof(old_size, new_size, node))


# --- Maintaining a stored tree -------------------------------------------------------------


def nodes_to_store(leaf_index: int, leaf: bytes, node: Node) -> list[Row]:
    """The rows that become complete when the leaf at ``leaf_index`` (hash ``leaf``) is
    appended: the leaf itself, then each parent whose right child it completes. Reads one
    left sibling per row after the first (on average one read per append)."""
    if leaf_index < 0:
        raise ValueError(f"leaf index {leaf_index} is negative")
    rows = [(0, leaf_index, leaf)]
    current, level, index = leaf, 0, leaf_index
    while index & 1:
        current = node_hash(node(level, index - 1), current)
        level, index = level + 1, index >> 1
        rows.append((level, index, current))
    return rows


def nodes_to_store_many(first_index: int, leaves: Iterable[bytes], node: Node) -> list[Row]:
    """``nodes_to_store`` for a batch appended at ``first_index`` onwards, in one transaction:
    a row made earlier in the batch is read from the batch, not from ``node``."""
    made: dict[tuple[int, int], bytes] = {}

    def read(level: int, index: int) -> bytes:
        found = made.get((level, index))
        return found if found is not None else node(level, index)

    rows: list[Row] = []
    for offset, leaf in enumerate(leaves):
        for row in nodes_to_store(first_index + offset, leaf, read):
            made[row[0], row[1]] = row[2]
            rows.append(row)
    return rows


class Frontier:
    """The right border of a tree: the roots of its maximal perfect subtrees, left to right
    (one per set bit of the size, so at most 64). Enough to append and to give the root with
    no reads: a store loads it once per batch (``Frontier.load``); ``verify`` streams every
    leaf through one to rebuild the tree and compare each row it emits with the stored one."""

    def __init__(self) -> None:
        self.size = 0
        self._border: list[tuple[int, bytes]] = []  # (level, hash), levels strictly falling

    @classmethod
    def load(cls, size: int, node: Node) -> Frontier:
        """The border of the stored tree of ``size`` leaves (reads ``root_nodes(size)``)."""
        frontier = cls()
        frontier.size = size
        frontier._border = [(level, node(level, index)) for level, index in _pieces(0, size)]
        return frontier

    def append(self, leaf: bytes) -> list[Row]:
        """Add a leaf; the rows it completes, as ``nodes_to_store`` gives them."""
        index = self.size
        rows = [(0, index, leaf)]
        current, level = leaf, 0
        while self._border and self._border[-1][0] == level:
            _, left = self._border.pop()
            current = node_hash(left, current)
            level += 1
            rows.append((level, index >> level, current))
        self._border.append((level, current))
        self.size += 1
        return rows

    def root(self) -> bytes:
        if not self._border:
            return EMPTY_ROOT
        result = self._border[-1][1]
        for _, left in reversed(self._border[:-1]):
            result = node_hash(left, result)
        return result


# --- Verifying proofs (RFC 9162 2.1.3.2 and 2.1.4.2) ----------------------------------------


def _hashes_ok(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size``
    leaves whose root is ``root``. Every hash must be 32 bytes."""
    if not 0 <= index < size or not _hashes_ok(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``new_size`` leaves (root ``new_root``) extends the
    tree of ``old_size`` leaves (root ``old_root``). Equal sizes need equal roots and an empty
    proof; an old size of 0 is refused, as transparency-dev/merkle does (nothing to prove:
    compare the old root with ``EMPTY_ROOT``)."""
    if not 0 < old_size <= new_size or not _hashes_ok(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
