//! Signature checks: the keys of authors, decompressed once each, and verification of many
//! signatures at once. A batch is checked with ed25519-dalek's batch equation (about twice as
//! fast as one by one); when a batch fails, its signatures are checked one by one to find
//! which. Acceptance is the single-signature rule: a signature that passes alone passes in
//! any batch. (The converse can fail only for a signature its own author crafted with a
//! small-order component; see `docs/ledger.md`, "Signatures".)

use std::collections::HashMap;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use rayon::prelude::*;

use crate::account::AccountId;

/// How many signatures one batch holds. The batch equation's cost per signature falls from
/// about 0.55 of a single check at 64 to 0.4 at 256 and hardly below after; a bad signature
/// then costs 256 single checks (about 10 ms), which only a forged or damaged entry causes.
pub(crate) const BATCH: usize = 256;

/// The verifying key for an account id, or `None` when the bytes are not a usable key: not
/// a point, a non-canonical encoding of one (two ids would name one key), or a weak key of
/// small order (any signature would verify).
pub(crate) fn verifying_key(id: &AccountId) -> Option<VerifyingKey> {
    let key = VerifyingKey::from_bytes(&id.0).ok()?;
    if key.is_weak() || VerifyingKey::from(key.to_edwards()).to_bytes() != id.0 {
        return None;
    }
    Some(key)
}

/// Keys by account, each decompressed once.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keys {
    map: HashMap<AccountId, Option<VerifyingKey>>,
}

impl Keys {
    pub(crate) fn get(&mut self, id: &AccountId) -> Option<VerifyingKey> {
        *self.map.entry(*id).or_insert_with(|| verifying_key(id))
    }

    /// Looks up keys already loaded, for use from many threads.
    pub(crate) fn loaded(&self, id: &AccountId) -> Option<VerifyingKey> {
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
        let keys: Vec<(AccountId, Option<VerifyingKey>)> = new
            .into_par_iter()
            .map(|id| (id, verifying_key(&id)))
            .collect();
        self.map.extend(keys);
    }
}

/// One signature to check: its key (`None`: not a usable key), message and signature bytes.
pub(crate) struct Check<'a> {
    pub(crate) key: Option<VerifyingKey>,
    pub(crate) message: &'a [u8],
    pub(crate) signature: [u8; 64],
}

/// Whether each signature verifies, checked in batches.
pub(crate) fn verify_batch(checks: &[Check<'_>]) -> Vec<bool> {
    let single = |c: &Check<'_>| {
        c.key.is_some_and(|k| {
            k.verify(c.message, &Signature::from_bytes(&c.signature))
                .is_ok()
        })
    };
    if checks.len() < 2 || checks.iter().any(|c| c.key.is_none()) {
        return checks.iter().map(single).collect();
    }
    let messages: Vec<&[u8]> = checks.iter().map(|c| c.message).collect();
    let signatures: Vec<Signature> = checks
        .iter()
        .map(|c| Signature::from_bytes(&c.signature))
        .collect();
    let keys: Vec<VerifyingKey> = checks.iter().filter_map(|c| c.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        vec![true; checks.len()]
    } else {
        checks.iter().map(single).collect()
    }
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
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    #[test]
    fn batches_find_the_bad_signature_and_refuse_unusable_keys() {
        let keys: Vec<SigningKey> = (0..5u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
        let messages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 40]).collect();
        let mut checks: Vec<Check<'_>> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| Check {
                key: verifying_key(&AccountId::of(&keys[i % 5])),
                message: m,
                signature: keys[i % 5].sign(m).to_bytes(),
            })
            .collect();
        assert_eq!(verify_batch(&checks), vec![true; 10]);
        checks[7].signature[3] ^= 1;
        let expect: Vec<bool> = (0..10).map(|i| i != 7).collect();
        assert_eq!(verify_batch(&checks), expect);
        assert_eq!(verify_parallel(&checks), expect);
        // The identity point (small order) and a non-canonical encoding are refused.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(verifying_key(&AccountId(identity)).is_none());
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(verifying_key(&AccountId(non_canonical)).is_none());
        assert!(verifying_key(&AccountId::of(&keys[0])).is_some());
    }
}
