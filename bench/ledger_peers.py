"""Peers of `cargo bench -p cpn-ledger --bench ledger`: ed25519 verification per second with
PyNaCl (libsodium) and with `cryptography` (OpenSSL), one thread each, and the verification of
an RFC 9162 inclusion proof in pure Python (hashlib), on a tree of the same size as ours.

Prints one line per measurement, `NAME VALUE` (the median of --rounds timed rounds):
  pynacl_verify_per_s, cryptography_verify_per_s: signatures verified per second;
  python_inclusion_us: microseconds per inclusion-proof verification.
A peer whose package is missing is reported on standard error and left out.
"""

import argparse
import hashlib
import statistics
import sys
import time


def messages(n):
    # Entry-sized messages (about 170 bytes), all distinct.
    return [b"cpn-ledger/entry/v1" + i.to_bytes(8, "big") * 19 for i in range(n)]


def rate(verify_all, n, rounds):
    verify_all()  # warm-up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        verify_all()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def pynacl(n, rounds):
    from nacl.signing import SigningKey

    key = SigningKey(bytes([7]) * 32)
    verify = key.verify_key.verify
    signed = [key.sign(m) for m in messages(n)]

    def run():
        for s in signed:
            verify(s)

    return rate(run, n, rounds)


def cryptography_peer(n, rounds):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    public = key.public_key()
    pairs = [(key.sign(m), m) for m in messages(n)]

    def run():
        verify = public.verify
        for sig, m in pairs:
            verify(sig, m)

    return rate(run, n, rounds)


# ---- RFC 9162 inclusion proofs --------------------------------------------------------------

def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """Complete subtrees by level, like the Rust MerkleTree, to make proofs quickly."""

    def __init__(self, leaves):
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            prev = self.levels[-1]
            self.levels.append([node(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])

    def mth(self, lo, hi):
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.levels[n.bit_length() - 1][lo // n]
        k = split(n)
        return node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m, lo, hi):
        n = hi - lo
        if n <= 1:
            return []
        k = split(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]


def verify_inclusion(leaf_hash, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def inclusion(size, proofs, rounds):
    leaves = [leaf(i.to_bytes(8, "big")) for i in range(size)]
    tree = Tree(leaves)
    root = tree.mth(0, size)
    step = max(1, size // proofs)
    cases = [(leaves[i], i, tree.path(i, 0, size)) for i in range(0, size, step)][:proofs]

    def run():
        for h, i, p in cases:
            if not verify_inclusion(h, i, size, p, root):
                raise SystemExit("inclusion proof failed")

    per_s = rate(run, len(cases), rounds)
    return 1e6 / per_s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--signatures", type=int, default=5000)
    ap.add_argument("--tree-size", type=int, default=1 << 20)
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    for name, fn in (("pynacl_verify_per_s", pynacl), ("cryptography_verify_per_s", cryptography_peer)):
        try:
            print(f"{name} {fn(a.signatures, a.rounds):.1f}", flush=True)
        except ImportError as e:
            print(f"SKIPPED {name}: {e} (pip install -r bench/requirements.txt)", file=sys.stderr)
    print(f"python_inclusion_us {inclusion(a.tree_size, a.proofs, a.rounds):.3f}", flush=True)


if __name__ == "__main__":
    main()
