//! The Merkle tree over every entry of the ledger, as in RFC 9162 §2.1 (the tree of
//! Certificate Transparency): a leaf is SHA-256(0x00 || entry bytes), a node is
//! SHA-256(0x01 || left || right), and a tree of n > 1 leaves splits at the largest power of
//! two smaller than n. Inclusion proofs (§2.1.3) show that an entry is in a tree of a given
//! size; consistency proofs (§2.1.4) show that a tree of size m is a prefix of one of size n.
//! The verifiers follow §2.1.3.2 and §2.1.4.2 step by step.
//!
//! [`MerkleTree`] keeps every complete subtree's hash (levels of a binary counter: about 2n
//! hashes for n leaves), so an append costs one leaf hash and on average one node hash, and
//! the root or a proof for any size costs O(log² n) lookups and hashes.

use std::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// The hash of a leaf: SHA-256(0x00 || bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    Hash(h.finalize().into())
}

/// The hash of an inner node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Hash::of(&[])
}

/// The largest power of two smaller than `n` (for `n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of a list of leaf hashes (MTH of RFC 9162 §2.1.1).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// Why a proof was refused or cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("size {size} is larger than the tree ({have} leaves)")]
    SizeOutOfRange { size: u64, have: u64 },
    #[error("consistency needs the first size ({first}) at most the second ({second})")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// Every complete subtree hash of an append-only list of leaves.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// `levels[h][j]` is the hash of leaves `j·2^h .. (j+1)·2^h`; `levels[0]` are the leaves.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a leaf hash (see [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut h = 0;
        let mut node = leaf;
        loop {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[h];
            level.push(node);
            if level.len() % 2 == 1 {
                return;
            }
            node = node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            h += 1;
        }
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// MTH of leaves `lo..hi` (non-empty, within the tree).
    fn subtree(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(lo / n) as usize];
        }
        let k = split(n);
        node_hash(&self.subtree(lo, lo + k), &self.subtree(lo + k, hi))
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.subtree(0, size)
        })
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.len()).unwrap_or_else(|_| empty_root())
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.len() {
            Err(ProofError::SizeOutOfRange {
                size,
                have: self.len(),
            })
        } else {
            Ok(())
        }
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves
    /// (RFC 9162 §2.1.3.1, PATH(m, D[n])).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.subtree(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.subtree(lo, lo + k));
        }
    }

    /// The consistency proof between the trees of the first `first` and `second` leaves
    /// (RFC 9162 §2.1.4.1, PROOF(m, D[n])); empty when `first` is 0 or equals `second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(second)?;
        if first > second {
            return Err(ProofError::SizesOutOfOrder { first, second });
        }
        let mut out = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !whole {
                out.push(self.subtree(lo, hi));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, lo, lo + k, whole, out);
            out.push(self.subtree(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.subtree(lo, lo + k));
        }
    }
}

/// Checks an inclusion proof as RFC 9162 §2.1.3.2 says.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof as RFC 9162 §2.1.4.2 says. The RFC defines the algorithm for
/// `0 < first < second`; here a tree is also consistent with itself (an empty proof and equal
/// roots) and the empty tree with any tree (an empty proof).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        let same = first == 0 || first_root == second_root;
        return if same {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // Step 1: an empty path fails.
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    // Step 2: when `first` is a power of two, its root is the first node of the path.
    let mut path = proof.iter().copied();
    let head = if first.is_power_of_two() {
        *first_root
    } else {
        path.next().ok_or(ProofError::WrongLength)?
    };
    // Steps 3-4.
    let (mut fnode, mut snode) = (first - 1, second - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (head, head);
    // Step 6.
    for c in path {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(&c, &fr);
            sr = node_hash(&c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, &c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// MTH exactly as RFC 9162 §2.1.1 defines it, over the leaves' bytes.
    fn mth(leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => Hash::of(&[]),
            1 => leaf_hash(&leaves[0]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn tree(n: usize) -> (Vec<Vec<u8>>, MerkleTree) {
        let leaves: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
        let mut t = MerkleTree::new();
        for l in &leaves {
            t.push(leaf_hash(l));
        }
        (leaves, t)
    }

    #[test]
    fn roots_equal_the_recursive_definition_at_every_size() {
        let (leaves, t) = tree(70);
        for n in 0..=70 {
            assert_eq!(t.root_at(n as u64).unwrap(), mth(&leaves[..n]), "size {n}");
        }
        assert!(t.root_at(71).is_err());
    }

    #[test]
    fn every_inclusion_proof_verifies_and_breaks_when_changed() {
        let (_, t) = tree(70);
        for n in 1..=70u64 {
            let root = t.root_at(n).unwrap();
            for i in 0..n {
                let leaf = t.leaf(i).unwrap();
                let proof = t.inclusion_proof(i, n).unwrap();
                assert_eq!(
                    verify_inclusion(&leaf, i, n, &proof, &root),
                    Ok(()),
                    "{i} {n}"
                );
                // Any single flipped bit in the proof or leaf fails.
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j].0[(i as usize + j) % 32] ^= 1;
                    assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
                }
                let mut bad_leaf = leaf;
                bad_leaf.0[0] ^= 0x80;
                assert!(verify_inclusion(&bad_leaf, i, n, &proof, &root).is_err());
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(verify_inclusion(&leaf, other, n, &proof, &root).is_err());
                    assert!(
                        verify_inclusion(&leaf, i, n, &proof[..proof.len() - 1], &root).is_err()
                    );
                }
                let mut longer = proof.clone();
                longer.push(root);
                assert!(verify_inclusion(&leaf, i, n, &longer, &root).is_err());
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_breaks_when_changed() {
        let (_, t) = tree(70);
        for n in 0..=70u64 {
            let rn = t.root_at(n).unwrap();
            for m in 0..=n {
                let rm = t.root_at(m).unwrap();
                let proof = t.consistency_proof(m, n).unwrap();
                assert_eq!(
                    verify_consistency(m, n, &rm, &rn, &proof),
                    Ok(()),
                    "{m} {n}"
                );
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j].0[(m as usize + j) % 32] ^= 4;
                    assert!(
                        verify_consistency(m, n, &rm, &rn, &bad).is_err(),
                        "{m} {n} {j}"
                    );
                }
                if m > 0 && m < n {
                    let mut bad_root = rm;
                    bad_root.0[31] ^= 1;
                    assert!(verify_consistency(m, n, &bad_root, &rn, &proof).is_err());
                    assert!(verify_consistency(m, n, &rm, &bad_root, &proof).is_err());
                    assert!(verify_consistency(m, n, &rn, &rn, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn every_byte_of_every_proof_matters_in_small_trees() {
        let (_, t) = tree(20);
        for n in 1..=20u64 {
            let rn = t.root_at(n).unwrap();
            for i in 0..n {
                let leaf = t.leaf(i).unwrap();
                let proof = t.inclusion_proof(i, n).unwrap();
                for j in 0..proof.len() {
                    for b in 0..32 {
                        let mut bad = proof.clone();
                        bad[j].0[b] ^= 0x10;
                        assert!(verify_inclusion(&leaf, i, n, &bad, &rn).is_err());
                    }
                }
                let rm = t.root_at(i).unwrap();
                let proof = t.consistency_proof(i, n).unwrap();
                for j in 0..proof.len() {
                    for b in 0..32 {
                        let mut bad = proof.clone();
                        bad[j].0[b] ^= 0x10;
                        assert!(verify_consistency(i, n, &rm, &rn, &bad).is_err());
                    }
                }
                for b in 0..32 {
                    let mut bad = rn;
                    bad.0[b] ^= 1;
                    assert!(
                        verify_inclusion(&leaf, i, n, &t.inclusion_proof(i, n).unwrap(), &bad)
                            .is_err()
                    );
                    if i > 0 {
                        assert!(verify_consistency(i, n, &rm, &bad, &proof).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn rfc_examples_have_the_documented_shapes() {
        // RFC 9162 §2.1.5: the tree of 7 leaves d0..d6. The inclusion proof of d3 is
        // [c, g, l]: d2's leaf, the hash of a-b, and the hash of the right subtree i-j-k.
        let (_, t) = tree(7);
        let proof = t.inclusion_proof(3, 7).unwrap();
        let c = t.leaf(2).unwrap();
        let g = node_hash(&t.leaf(0).unwrap(), &t.leaf(1).unwrap());
        let i = node_hash(&t.leaf(4).unwrap(), &t.leaf(5).unwrap());
        let l = node_hash(&i, &t.leaf(6).unwrap());
        assert_eq!(proof, vec![c, g, l]);
        // The consistency proof between sizes 3 and 7 is [c, d, g, l].
        let d = t.leaf(3).unwrap();
        assert_eq!(t.consistency_proof(3, 7).unwrap(), vec![c, d, g, l]);
        // Between 4 and 7 it is [l]; between 6 and 7 [i, j, k].
        assert_eq!(t.consistency_proof(4, 7).unwrap(), vec![l]);
        let j = t.leaf(6).unwrap();
        let k = node_hash(&g, &node_hash(&c, &d));
        assert_eq!(t.consistency_proof(6, 7).unwrap(), vec![i, j, k]);
    }
}
