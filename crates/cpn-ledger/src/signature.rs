//! Signature checks with one acceptance rule, alone or in a batch.
//!
//! Signatures are ed25519 (RFC 8032) made by ed25519-dalek. A signature (R, s) by key A on
//! message M is accepted when s < ℓ, R decodes to a curve point, and
//!
//! ```text
//!     [8]([s]B − R − [k]A) = 0,    k = SHA-512(R ‖ A ‖ M) mod ℓ
//! ```
//!
//! This is the *cofactored* equation, the rule ZIP 215 settled on, and the reason is
//! batching: a batch checks `[8](Σ zᵢ([sᵢ]B − Rᵢ − [kᵢ]Aᵢ)) = 0` with random 128-bit zᵢ, which
//! holds exactly when every signature passes alone (but with probability about 2⁻¹²⁸). With
//! the cofactorless equation (ed25519-dalek's `verify`), a signature its author crafted with a
//! small-order component in R could pass in one batch and fail alone or in another batch;
//! a ledger would then verify or not depending on how its entries were grouped. Honest
//! signatures pass both rules alike.
//!
//! The zᵢ are derived from a hash of the whole batch (as Fiat and Shamir do), so the check
//! is deterministic and no signer can choose them. A batch that fails is checked one by one to
//! find which signature is bad.
//!
//! Keys: an account id must be the canonical encoding of a curve point that is not of small
//! order (else any signature would verify, or two ids would name one key).

use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::account::AccountId;

/// How many signatures one batch holds. The batch's cost per signature falls from about half
/// of a single check at 64 to 0.4 at 256 and hardly below after; a bad signature then costs
/// 256 single checks (about 10 ms), which only a forged or damaged entry causes.
pub(crate) const BATCH: usize = 256;

/// A usable verifying key: its encoding and its point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    bytes: [u8; 32],
    point: EdwardsPoint,
}

/// The key of an account id, or `None` when the bytes are not a usable key.
pub(crate) fn verifying_key(id: &AccountId) -> Option<Key> {
    let point = CompressedEdwardsY(id.0).decompress()?;
    if point.is_small_order() || point.compress().0 != id.0 {
        return None;
    }
    Some(Key { bytes: id.0, point })
}

/// Keys by account, each decompressed once.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keys {
    map: HashMap<AccountId, Option<Key>>,
}

impl Keys {
    pub(crate) fn get(&mut self, id: &AccountId) -> Option<Key> {
        *self.map.entry(*id).or_insert_with(|| verifying_key(id))
    }

    /// Looks up keys already loaded, for use from many threads.
    pub(crate) fn loaded(&self, id: &AccountId) -> Option<Key> {
        self.map.get(id).copied().flatten()
    }

    /// Loads every id in `ids` not loaded yet, decompressing in parallel.
    pub(crate) fn load_all(&mut self, ids: impl IntoIterator<Item = AccountId>) {
        let mut new: Vec<AccountId> = ids
            .into_iter()
            .filter(|id| !self.map.contains_key(id))
            .collect();
        new.sort_unstable();
        new.dedup();
        let keys: Vec<(AccountId, Option<Key>)> = new
            .into_par_iter()
            .map(|id| (id, verifying_key(&id)))
            .collect();
        self.map.extend(keys);
    }
}

/// One signature to check: its key (`None`: not a usable key), message and signature bytes.
pub(crate) struct Check<'a> {
    pub(crate) key: Option<Key>,
    pub(crate) message: &'a [u8],
    pub(crate) signature: [u8; 64],
}

/// A signature decoded for the equation: R, s, k and A.
struct Parts {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
    a: EdwardsPoint,
}

fn parts(c: &Check<'_>) -> Option<Parts> {
    let key = c.key?;
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&c.signature[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&c.signature[32..]);
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.bytes);
    h.update(c.message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    Some(Parts {
        r,
        s,
        k,
        a: key.point,
    })
}

/// The acceptance rule for one signature.
fn single(p: &Parts) -> bool {
    // [s]B − [k]A, then minus R, times the cofactor.
    let sb_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &-p.a, &p.s);
    (sb_ka - p.r).mul_by_cofactor().is_identity()
}

/// The batch equation over `ps` (all decoded), with coefficients from `seed`.
fn batch(ps: &[Parts], seed: &[u8; 64]) -> bool {
    let zs: Vec<Scalar> = (0..ps.len() as u64)
        .map(|i| {
            let mut h = Sha512::new();
            h.update(b"cpn-ledger/batch/v1");
            h.update(seed);
            h.update(i.to_be_bytes());
            let out = h.finalize();
            let mut z = [0u8; 16];
            z.copy_from_slice(&out[..16]);
            Scalar::from(u128::from_le_bytes(z))
        })
        .collect();
    let b_coefficient: Scalar = -ps.iter().zip(&zs).map(|(p, z)| p.s * z).sum::<Scalar>();
    let scalars = std::iter::once(b_coefficient)
        .chain(zs.iter().copied())
        .chain(ps.iter().zip(&zs).map(|(p, z)| p.k * z));
    let points = std::iter::once(ED25519_BASEPOINT_POINT)
        .chain(ps.iter().map(|p| p.r))
        .chain(ps.iter().map(|p| p.a));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

/// Whether one signature verifies.
pub(crate) fn verify_one(c: &Check<'_>) -> bool {
    parts(c).is_some_and(|p| single(&p))
}

/// Whether each signature verifies, checked as one batch (one by one when it fails).
pub(crate) fn verify_batch(checks: &[Check<'_>]) -> Vec<bool> {
    let decoded: Vec<Option<Parts>> = checks.iter().map(parts).collect();
    if checks.len() >= 2 && decoded.iter().all(Option::is_some) {
        // The seed commits to every key, signature and k of the batch.
        let mut h = Sha512::new();
        for (c, p) in checks.iter().zip(&decoded) {
            h.update(c.signature);
            if let (Some(key), Some(p)) = (c.key, p) {
                h.update(key.bytes);
                h.update(p.k.as_bytes());
            }
        }
        let seed: [u8; 64] = h.finalize().into();
        let all: Vec<Parts> = decoded.into_iter().flatten().collect();
        if batch(&all, &seed) {
            return vec![true; checks.len()];
        }
        return all.iter().map(single).collect();
    }
    decoded
        .iter()
        .map(|p| p.as_ref().is_some_and(single))
        .collect()
}

/// [`verify_batch`] over all of `checks` in parallel, `BATCH` at a time.
pub(crate) fn verify_parallel(checks: &[Check<'_>]) -> Vec<bool> {
    checks
        .par_chunks(BATCH)
        .flat_map_iter(verify_batch)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ed25519_dalek::{Signer, SigningKey, Verifier};

    use super::*;

    fn check<'a>(key: &SigningKey, message: &'a [u8], signature: [u8; 64]) -> Check<'a> {
        Check {
            key: verifying_key(&AccountId::of(key)),
            message,
            signature,
        }
    }

    #[test]
    fn honest_signatures_pass_as_ed25519_dalek_says_and_bad_ones_are_found() {
        let keys: Vec<SigningKey> = (0..5u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
        let messages: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_be_bytes().repeat(9)).collect();
        let mut checks: Vec<Check<'_>> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| check(&keys[i % 5], m, keys[i % 5].sign(m).to_bytes()))
            .collect();
        assert_eq!(verify_batch(&checks), vec![true; 300]);
        assert_eq!(verify_parallel(&checks), vec![true; 300]);
        checks[7].signature[3] ^= 1; // R changed
        checks[200].signature[40] ^= 1; // s changed
        checks[250].message = b"another message";
        let expect: Vec<bool> = (0..300).map(|i| ![7, 200, 250].contains(&i)).collect();
        assert_eq!(verify_batch(&checks), expect);
        assert_eq!(verify_parallel(&checks), expect);
        for (c, good) in checks.iter().zip(&expect) {
            assert_eq!(verify_one(c), *good);
            let dalek = ed25519_dalek::VerifyingKey::from_bytes(&c.key.unwrap().bytes)
                .unwrap()
                .verify(
                    c.message,
                    &ed25519_dalek::Signature::from_bytes(&c.signature),
                )
                .is_ok();
            assert_eq!(dalek, *good);
        }
    }

    #[test]
    fn a_non_canonical_s_and_unusable_keys_are_refused() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let m = b"message";
        let mut sig = key.sign(m).to_bytes();
        // s + ℓ: the same scalar, not in canonical form (ℓ little-endian; s < ℓ, so the sum
        // fits in 32 bytes).
        let mut l = [0u8; 32];
        l[..16].copy_from_slice(&[
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14,
        ]);
        l[31] = 0x10;
        let mut wide = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
            wide[i] = v as u8;
            carry = v >> 8;
        }
        assert!(verify_one(&check(&key, m, sig)));
        sig[32..].copy_from_slice(&wide);
        assert!(!verify_one(&check(&key, m, sig)));
        // The identity (small order) and a non-canonical encoding of a point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(verifying_key(&AccountId(identity)).is_none());
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(verifying_key(&AccountId(non_canonical)).is_none());
    }

    /// A signature whose R has a small-order component: the cofactored rule accepts it alone
    /// and in every batch alike (ed25519-dalek's cofactorless `verify` refuses it).
    #[test]
    fn small_order_components_are_judged_alike_alone_and_in_batches() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let a = key.to_scalar();
        let public = AccountId::of(&key);
        // A point of order 4: y = 0.
        let torsion = CompressedEdwardsY([0; 32]).decompress().unwrap();
        assert!(torsion.is_small_order() && !torsion.is_identity());
        let messages: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 50]).collect();
        let sigs: Vec<[u8; 64]> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if i % 3 != 0 {
                    return key.sign(m).to_bytes();
                }
                let r = Scalar::from(1_000 + i as u64);
                let big_r = (ED25519_BASEPOINT_POINT * r + torsion).compress();
                let mut h = Sha512::new();
                h.update(big_r.0);
                h.update(public.0);
                h.update(m);
                let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
                let s = r + k * a;
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&big_r.0);
                sig[32..].copy_from_slice(s.as_bytes());
                sig
            })
            .collect();
        let checks: Vec<Check<'_>> = messages
            .iter()
            .zip(&sigs)
            .map(|(m, s)| check(&key, m, *s))
            .collect();
        let alone: Vec<bool> = checks.iter().map(verify_one).collect();
        assert!(alone.iter().all(|&ok| ok));
        for size in 2..=8 {
            for chunk in checks.chunks(size) {
                assert!(verify_batch(chunk).iter().all(|&ok| ok));
            }
        }
        let vk = key.verifying_key();
        let sig = ed25519_dalek::Signature::from_bytes(&sigs[0]);
        assert!(vk.verify(&messages[0], &sig).is_err());
    }
}
