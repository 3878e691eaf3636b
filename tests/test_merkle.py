"""The Merkle tree against the RFC 6962/9162 reference vectors, a reference implementation
written here from the RFC text, and a second, independent implementation (sigstore's
Trillian-derived inclusion verifier); proofs are O(log n) reads of stored nodes."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity import merkle
from ledger.integrity.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_data,
    leaf_hash,
    node_hash,
    nodes_to_store,
    nodes_to_store_many,
    root_nodes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc6962.json").read_text())
h = bytes.fromhex
INCLUSION = VECTORS["inclusion"]
CONSISTENCY = VECTORS["consistency"]


def inclusion_id(case: dict[str, Any]) -> str:
    return f"{case['leaf_index']}in{case['tree_size']}"


def consistency_id(case: dict[str, Any]) -> str:
    return f"{case['old_size']}to{case['new_size']}"


# --- A reference written from RFC 9162 2.1 (recursive MTH, PATH, PROOF) -----------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def inputs(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


@lru_cache(maxsize=64)
def ref_store(n: int) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree of the n-leaf tree, hashed by the reference."""
    d = inputs(n)
    store = {}
    level = 0
    while (1 << level) <= n:
        width = 1 << level
        for index in range(n // width):
            store[level, index] = ref_mth(d[index * width:(index + 1) * width])
        level += 1
    return store


def reader(store: dict[tuple[int, int], bytes]) -> Callable[[int, int], bytes]:
    return lambda level, index: store[level, index]


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# --- Reference vectors (transparency-dev/merkle; see tests/vectors/rfc6962.json) ----------------


def vector_store() -> dict[tuple[int, int], bytes]:
    store: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    for leaf in VECTORS["leaves"]:
        for level, index, value in frontier.append(leaf_hash(h(leaf))):
            store[level, index] = value
    return store


def test_hasher_matches_the_rfc6962_vectors() -> None:
    empty, leaf_empty, leaf_l, node = VECTORS["hasher"]
    assert h(empty["empty_root"]) == EMPTY_ROOT
    assert tree_root(0, reader({})) == h(empty["empty_root"])
    assert leaf_hash(h(leaf_empty["leaf"])) == h(leaf_empty["want"])
    assert leaf_hash(h(leaf_l["leaf"])) == h(leaf_l["want"])
    assert node_hash(h(node["left"]), h(node["right"])) == h(node["want"])


def test_stored_nodes_and_roots_match_the_reference_tree() -> None:
    store = vector_store()
    expected = {
        (level, index): h(value)
        for level, row in enumerate(VECTORS["nodes"])
        for index, value in enumerate(row)
    }
    assert store == expected
    leaves = [leaf_hash(h(x)) for x in VECTORS["leaves"]]
    for size, want in enumerate(VECTORS["roots"]):
        assert tree_root(size, reader(store)) == h(want), size
        assert merkle.root(leaves[:size]) == h(want), size


@pytest.mark.parametrize("case", INCLUSION, ids=inclusion_id)
def test_inclusion_proofs_match_the_vectors(case: dict[str, Any]) -> None:
    store = vector_store()
    index, size = case["leaf_index"], case["tree_size"]
    want = [h(x) for x in case["proof"]]
    assert inclusion_proof(index, size, reader(store)) == want
    leaf = store[0, index]
    assert verify_inclusion(leaf, index, size, want, h(VECTORS["roots"][size]))


@pytest.mark.parametrize("case", CONSISTENCY, ids=consistency_id)
def test_consistency_proofs_match_the_vectors(case: dict[str, Any]) -> None:
    store = vector_store()
    old, new = case["old_size"], case["new_size"]
    want = [h(x) for x in case["proof"]]
    assert consistency_proof(old, new, reader(store)) == want
    roots = VECTORS["roots"]
    assert verify_consistency(old, new, h(roots[old]), h(roots[new]), want)


SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def inclusion_corruptions(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> list[tuple[str, tuple[Any, ...]]]:
    """The probes transparency-dev/merkle's proofgen derives from each good inclusion proof
    (cmd/proofgen: invalidInclusionProof), regenerated here; each must be refused."""
    probes: list[tuple[str, tuple[Any, ...]]] = [
        ("index - 1", (leaf, index - 1, size, proof, root)),
        ("index + 1", (leaf, index + 1, size, proof, root)),
        ("index ^ 2", (leaf, index ^ 2, size, proof, root)),
        ("size * 2", (leaf, index, size * 2, proof, root)),
        ("size // 2", (leaf, index, size // 2, proof, root)),
        ("wrong leaf", (b"WrongLeaf", index, size, proof, root)),
        ("empty root", (leaf, index, size, proof, EMPTY_ROOT)),
        ("random root", (leaf, index, size, proof, SOME_HASH)),
        ("trailing garbage", (leaf, index, size, [*proof, b""], root)),
        ("trailing root", (leaf, index, size, [*proof, root], root)),
        ("preceding garbage", (leaf, index, size, [b"", *proof], root)),
        ("preceding root", (leaf, index, size, [root, *proof], root)),
    ]
    for i in range(len(proof)):
        changed = list(proof)
        changed[i] = flip(changed[i], 3)
        probes.append((f"proof[{i}] bit flipped", (leaf, index, size, changed, root)))
    if proof:
        probes.append(("removed component", (leaf, index, size, proof[:-1], root)))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", (leaf, index, size, inserted, root)))
    return probes


@pytest.mark.parametrize("case", INCLUSION, ids=inclusion_id)
def test_corrupted_inclusion_proofs_are_refused(case: dict[str, Any]) -> None:
    store = vector_store()
    index, size = case["leaf_index"], case["tree_size"]
    proof = [h(x) for x in case["proof"]]
    root = h(VECTORS["roots"][size])
    for desc, args in inclusion_corruptions(index, size, store[0, index], proof, root):
        assert not verify_inclusion(*args), desc


@pytest.mark.parametrize("case", CONSISTENCY[1:], ids=consistency_id)
def test_corrupted_consistency_proofs_are_refused(case: dict[str, Any]) -> None:
    """proofgen's consistency corruptions (invalidConsistencyProof), regenerated here."""
    old, new = case["old_size"], case["new_size"]
    proof = [h(x) for x in case["proof"]]
    r1, r2 = h(VECTORS["roots"][old]), h(VECTORS["roots"][new])
    probes: list[tuple[str, tuple[Any, ...]]] = [
        ("old - 1", (old - 1, new, r1, r2, proof)),
        ("old + 1", (old + 1, new, r1, r2, proof)),
        ("old ^ 2", (old ^ 2, new, r1, r2, proof)),
        ("new * 2", (old, new * 2, r1, r2, proof)),
        ("new // 2", (old, new // 2, r1, r2, proof)),
        ("empty proof", (old, new, r1, r2, [])),
        ("roots swapped", (old, new, r2, r1, proof)),
        ("old root changed", (old, new, flip(r1), r2, proof)),
        ("new root changed", (old, new, r1, flip(r2), proof)),
        ("trailing garbage", (old, new, r1, r2, [*proof, b""])),
        ("trailing root", (old, new, r1, r2, [*proof, r2])),
        ("preceding garbage", (old, new, r1, r2, [b"", *proof])),
        ("preceding root", (old, new, r1, r2, [r1, *proof])),
        ("removed component", (old, new, r1, r2, proof[:-1])),
    ]
    for i in range(len(proof)):
        changed = list(proof)
        changed[i] = flip(changed[i], 4)
        probes.append((f"proof[{i}] bit flipped", (old, new, r1, r2, changed)))
    for desc, args in probes:
        assert not verify_consistency(*args), desc


def test_edge_cases_of_verification() -> None:
    """transparency-dev/merkle's 'additional' and 'single-entry' probes, in our words."""
    data_hash = leaf_hash(b"data")
    assert verify_inclusion(data_hash, 0, 1, [], data_hash)
    assert not verify_inclusion(b"", 0, 1, [], data_hash)  # hashes are 32 bytes
    assert not verify_inclusion(data_hash, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (2, 1), (1, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
        assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
    one = leaf_hash(b"one")
    assert verify_consistency(1, 1, one, one, [])
    assert not verify_consistency(1, 1, one, SOME_HASH, [])
    assert not verify_consistency(1, 1, one, one, [one])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])  # from empty: refused
    assert not verify_consistency(0, 1, EMPTY_ROOT, one, [])
    assert not verify_consistency(2, 1, one, one, [])
    assert not verify_consistency(1, 2, one, SOME_HASH, [])
    with pytest.raises(ValueError, match="leaf index"):
        inclusion_proof(3, 3, reader({}))
    with pytest.raises(ValueError, match="0 < old <= new"):
        consistency_proof(0, 3, reader({}))
    with pytest.raises(ValueError, match="0 < old <= new"):
        consistency_proof(4, 3, reader({}))
    assert consistency_proof(5, 5, reader({})) == []


# --- Against the reference written from the RFC, on generated trees -----------------------------


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 160).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_agrees_with_the_reference(case: tuple[int, int]) -> None:
    n, m = case
    node = reader(ref_store(n))
    d = inputs(n)
    root = ref_mth(d)
    proof = inclusion_proof(m, n, node)
    assert tree_root(n, node) == root
    assert proof == ref_path(m, d)
    leaf = _sha(b"\x00" + d[m])
    assert verify_inclusion(leaf, m, n, proof, root)
    # Moved to another leaf, a changed hash: refused.
    for other in {0, n - 1, (m + 1) % n, m ^ 1} - {m}:
        if other < n:
            assert not verify_inclusion(leaf, other, n, proof, root)
            assert not verify_inclusion(_sha(b"\x00" + d[other]), other, n, proof, root)
    assert not verify_inclusion(flip(leaf), m, n, proof, root)
    assert not verify_inclusion(leaf, m, n, proof, flip(root))
    for i in range(len(proof)):
        assert not verify_inclusion(leaf, m, n, proof[:i] + [flip(proof[i])] + proof[i + 1:], root)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 160).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_agrees_with_the_reference(case: tuple[int, int]) -> None:
    m, n = case
    node = reader(ref_store(n))
    d = inputs(n)
    old_root, new_root = ref_mth(d[:m]), ref_mth(d)
    proof = consistency_proof(m, n, node)
    assert tree_root(m, node) == old_root
    assert proof == (ref_proof(m, d) if m < n else [])
    assert verify_consistency(m, n, old_root, new_root, proof)
    assert not verify_consistency(m, n, flip(old_root), new_root, proof)
    assert not verify_consistency(m, n, old_root, flip(new_root), proof)
    for i in range(len(proof)):
        changed = proof[:i] + [flip(proof[i])] + proof[i + 1:]
        assert not verify_consistency(m, n, old_root, new_root, changed)
    if m < n:
        other = ref_mth(d[: m - 1] + [b"rewritten"] + d[m:])  # history rewritten at m - 1
        assert not verify_consistency(m, n, old_root, other, proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 140), st.integers(0, 140))
def test_appends_store_exactly_the_perfect_subtrees(split: int, extra: int) -> None:
    """nodes_to_store, nodes_to_store_many and Frontier (also loaded mid-way) each store every
    perfect subtree once, as the reference hashes it; the frontier's root is the tree's."""
    n = split + extra
    leaves = [_sha(b"\x00" + x) for x in inputs(n)]
    one_by_one: dict[tuple[int, int], bytes] = {}
    for index, leaf in enumerate(leaves):
        for level, i, value in nodes_to_store(index, leaf, reader(one_by_one)):
            assert (level, i) not in one_by_one
            one_by_one[level, i] = value
    assert one_by_one == ref_store(n)

    batched: dict[tuple[int, int], bytes] = {}
    for level, i, value in nodes_to_store_many(0, leaves[:split], reader(batched)):
        batched[level, i] = value
    rows = nodes_to_store_many(split, leaves[split:], reader(batched))
    assert all((level, i) not in batched for level, i, _ in rows)  # read, never rewritten
    batched.update({(level, i): value for level, i, value in rows})
    assert batched == ref_store(n)

    frontier = Frontier.load(split, reader(ref_store(n)))
    assert frontier.root() == ref_mth(inputs(split))
    loaded = {(lv, i): v for (lv, i), v in ref_store(n).items() if (i + 1) << lv <= split}
    for leaf in leaves[split:]:
        for level, i, value in frontier.append(leaf):
            loaded[level, i] = value
    assert loaded == ref_store(n)
    assert frontier.root() == ref_mth(inputs(n)) and frontier.size == n


# --- O(log n) reads ---------------------------------------------------------------------------


class CountingNodes:
    """A stored tree of any size, by its hashes' addresses: counts the reads."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        self.calls.append((level, index))
        return _sha(struct.pack(">QQ", level, index))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 2**48).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(1, n))
))
def test_proofs_read_O_log_n_nodes(case: tuple[int, int, int]) -> None:
    n, index, old = case
    bound = 2 * n.bit_length()
    counting = CountingNodes()
    proof = inclusion_proof(index, n, counting)
    assert len(counting.calls) <= bound
    assert len(proof) <= (n - 1).bit_length()  # <= ceil(log2 n) hashes: 640 bytes at 1M
    assert counting.calls == inclusion_nodes(index, n)

    counting = CountingNodes()
    consistency_proof(old, n, counting)
    assert len(counting.calls) <= bound
    assert counting.calls == consistency_nodes(old, n)

    counting = CountingNodes()
    tree_root(n, counting)
    assert len(counting.calls) == bin(n).count("1")
    assert counting.calls == root_nodes(n)

    counting = CountingNodes()
    rows = nodes_to_store(index, SOME_HASH, counting)
    trailing_ones = len(bin(index)) - len(bin(index).rstrip("1"))
    assert len(counting.calls) == trailing_ones == len(rows) - 1


def test_a_million_leaves_take_a_few_dozen_reads() -> None:
    n = 1_000_000
    for index in (0, 1, 499_999, 786_431, 999_999):
        counting = CountingNodes()
        proof = inclusion_proof(index, n, counting)
        assert len(counting.calls) <= 40 and len(proof) <= 20
    counting = CountingNodes()
    consistency_proof(654_321, n, counting)
    assert len(counting.calls) <= 40


# --- Leaf data --------------------------------------------------------------------------------


def test_leaf_data_layout() -> None:
    """The documented bytes, assembled here by hand."""
    link, digest = bytes(range(32)), bytes(range(32, 64))
    signature = bytes([7]) * 64
    data = leaf_data(
        20, link, digest, signer="records-officer", key_id=b"\x01" * 8,
        signed_at="2024-05-01T10:00:00+00:00", signature=signature,
    )
    expected = (
        b"ledger-leaf/v1\x00" + (20).to_bytes(8, "big") + link + digest
        + (15).to_bytes(4, "big") + b"records-officer"
        + (8).to_bytes(4, "big") + b"\x01" * 8
        + (25).to_bytes(4, "big") + b"2024-05-01T10:00:00+00:00"
        + (64).to_bytes(4, "big") + signature
    )
    assert data == expected
    unsigned = leaf_data(1, link, digest, signer=None, key_id=None, signed_at=None, signature=None)
    assert unsigned == b"ledger-leaf/v1\x00" + (1).to_bytes(8, "big") + link + digest + bytes(16)


def test_every_field_of_the_leaf_changes_it() -> None:
    base: dict[str, Any] = dict(
        position=5, link_hash=bytes(32), payload_digest=bytes(32), signer="a",
        key_id=bytes(8), signed_at="2024-01-01T00:00:00+00:00", signature=bytes(64),
    )
    changes: dict[str, Any] = dict(
        position=6, link_hash=b"\x01" + bytes(31), payload_digest=b"\x01" + bytes(31),
        signer="b", key_id=b"\x01" + bytes(7), signed_at="2024-01-01T00:00:01+00:00",
        signature=b"\x01" + bytes(63),
    )
    original = leaf_data(**base)
    for name, value in changes.items():
        assert leaf_data(**{**base, name: value}) != original, name
    # Length prefixes: moving bytes between the signer and the signed time changes the leaf.
    assert leaf_data(**{**base, "signer": "ab", "signed_at": "c"}) != leaf_data(
        **{**base, "signer": "a", "signed_at": "bc"}
    )


def test_leaf_data_refuses_what_it_cannot_encode() -> None:
    kwargs: dict[str, Any] = dict(signer=None, key_id=None, signed_at=None, signature=None)
    with pytest.raises(ValueError, match="position"):
        leaf_data(0, bytes(32), bytes(32), **kwargs)
    with pytest.raises(ValueError, match="link hash"):
        leaf_data(1, bytes(31), bytes(32), **kwargs)
    with pytest.raises(ValueError, match="payload digest"):
        leaf_data(1, bytes(32), bytes(33), **kwargs)


# --- A second implementation: sigstore-python's inclusion verifier ------------------------------


def _sigstore_merkle() -> Any:
    """sigstore's Merkle inclusion check (a port of Trillian's verifier). A dev dependency:
    missing, the test fails under CI and is skipped on a developer's machine."""
    try:
        from sigstore._internal import merkle as sigstore_merkle
        from sigstore.errors import VerificationError
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("sigstore (a dev dependency) is not installed")
        pytest.skip("sigstore is not installed")
    return sigstore_merkle, VerificationError


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 130).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_sigstore_verifies_our_inclusion_proofs(case: tuple[int, int]) -> None:
    """sigstore hashes the leaf data itself and checks our proof against our root; it refuses
    a proof moved to another leaf, a changed hash and a wrong root."""
    sigstore_merkle, verification_error = _sigstore_merkle()
    n, m = case
    d = [
        leaf_data(i + 1, _sha(b"link %d" % i), _sha(b"digest %d" % i), signer="officer",
                  key_id=bytes(8), signed_at="2024-01-01T00:00:00+00:00", signature=bytes(64))
        for i in range(n)
    ]
    frontier, store = Frontier(), {}
    for x in d:
        store.update({(lv, i): v for lv, i, v in frontier.append(leaf_hash(x))})
    root = frontier.root()
    proof = inclusion_proof(m, n, reader(store))

    def entry(index: int, body: bytes, hashes: list[bytes], root_hash: bytes) -> Any:
        proof_ns = SimpleNamespace(
            log_index=index, tree_size=n, hashes=hashes, root_hash=root_hash
        )
        return SimpleNamespace(
            _inner=SimpleNamespace(inclusion_proof=proof_ns, canonicalized_body=body)
        )

    sigstore_merkle.verify_merkle_inclusion(entry(m, d[m], proof, root))
    refused = [entry(m, d[m], proof, flip(root)), entry(m, d[m] + b"x", proof, root)]
    if n > 1:
        other = (m + 1) % n
        refused += [entry(other, d[other], proof, root), entry(other, d[m], proof, root)]
        refused += [entry(m, d[m], [flip(proof[0]), *proof[1:]], root)]
    for bad in refused:
        with pytest.raises(verification_error):
            sigstore_merkle.verify_merkle_inclusion(bad)
