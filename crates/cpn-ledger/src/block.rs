//! The ledger's header (who the operator is, the market's rules) and its blocks: each block
//! header commits to its entries (their Merkle root and count), to the whole ledger so far
//! (the size and root of the tree over all entries) and to the previous block's hash, and is
//! signed by the operator. The first block's previous hash is the ledger id, the hash of the
//! ledger header, so the chain is anchored to one ledger.
//!
//! ```text
//! ledger header: magic "CPNLEDGR" | version u8 (= 1) | operator [32] | penalty_ppm u32 | name (u16 len, UTF-8)
//! block header:  version u8 (= 1) | height u64 | prev [32] | time u64 | entry_count u32
//!                | entries_root [32] | tree_size u64 | ledger_root [32]          (125 bytes)
//! ```

use ed25519_dalek::{Signer, SigningKey};

use crate::account::AccountId;
use crate::codec::{DecodeError, Reader, Writer};
use crate::merkle::Hash;

/// The first bytes of a ledger file.
pub const MAGIC: &[u8; 8] = b"CPNLEDGR";

/// The version of the ledger header and of block headers.
pub const BLOCK_VERSION: u8 = 1;

/// What a block header's signature covers before the ledger id and the header's bytes.
pub const BLOCK_DOMAIN: &[u8] = b"cpn-ledger/block/v1";

/// The length of an encoded block header.
pub const BLOCK_HEADER_LEN: usize = 1 + 8 + 32 + 8 + 4 + 32 + 8 + 32;

/// The longest ledger name, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The most a penalty factor may be: 100 times the missed fraction.
pub const MAX_PENALTY_PPM: u32 = 100_000_000;

/// The ledger's identity and the market's rules, fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerHeader {
    /// A name for people; not unique.
    pub name: String,
    /// The market's key: it deposits money, clears rounds, records placements and settles.
    pub operator: AccountId,
    /// The penalty factor every contract of this ledger settles with, in ppm.
    pub penalty_ppm: u32,
}

impl LedgerHeader {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64 + self.name.len());
        w.bytes(MAGIC);
        w.u8(BLOCK_VERSION);
        w.bytes(&self.operator.0);
        w.u32(self.penalty_ppm);
        w.text(&self.name);
        w.buf
    }

    /// Reads a ledger header from the front of `r`.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<LedgerHeader, DecodeError> {
        if r.take("magic", MAGIC.len())? != MAGIC {
            return Err(r.invalid_at("magic", 0, "not a cpn ledger file"));
        }
        let version = r.u8("version")?;
        if version != BLOCK_VERSION {
            return Err(DecodeError::UnknownVersion { offset: 8, version });
        }
        let operator = AccountId(r.bytes32("operator")?);
        let penalty_ppm = r.u32("penalty_ppm")?;
        if penalty_ppm > MAX_PENALTY_PPM {
            return Err(r.invalid_at("penalty_ppm", r.pos() - 4, "above 100 times"));
        }
        let name = r.text("name", MAX_NAME_LEN)?;
        Ok(LedgerHeader {
            name,
            operator,
            penalty_ppm,
        })
    }

    /// Decodes exactly one ledger header.
    pub fn decode(bytes: &[u8]) -> Result<LedgerHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Self::read(&mut r)?;
        r.finish()?;
        Ok(h)
    }

    /// The ledger id: SHA-256 of the encoded header.
    pub fn id(&self) -> Hash {
        Hash::of(&self.encode())
    }
}

/// A block header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// 0 for the first block.
    pub height: u64,
    /// The previous block's hash; the ledger id for the first block.
    pub prev: Hash,
    /// Seconds; never less than the previous block's.
    pub time: u64,
    pub entry_count: u32,
    /// The RFC 9162 root of this block's entries alone.
    pub entries_root: Hash,
    /// Entries in the ledger up to and including this block.
    pub tree_size: u64,
    /// The RFC 9162 root of all those entries.
    pub ledger_root: Hash,
}

impl BlockHeader {
    pub fn encode(&self) -> [u8; BLOCK_HEADER_LEN] {
        let mut w = Writer::with_capacity(BLOCK_HEADER_LEN);
        w.u8(BLOCK_VERSION);
        w.u64(self.height);
        w.bytes(&self.prev.0);
        w.u64(self.time);
        w.u32(self.entry_count);
        w.bytes(&self.entries_root.0);
        w.u64(self.tree_size);
        w.bytes(&self.ledger_root.0);
        let mut out = [0u8; BLOCK_HEADER_LEN];
        out.copy_from_slice(&w.buf);
        out
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<BlockHeader, DecodeError> {
        let at = r.pos();
        let version = r.u8("block version")?;
        if version != BLOCK_VERSION {
            return Err(DecodeError::UnknownVersion {
                offset: at,
                version,
            });
        }
        Ok(BlockHeader {
            height: r.u64("height")?,
            prev: Hash(r.bytes32("prev")?),
            time: r.u64("time")?,
            entry_count: r.u32("entry_count")?,
            entries_root: Hash(r.bytes32("entries_root")?),
            tree_size: r.u64("tree_size")?,
            ledger_root: Hash(r.bytes32("ledger_root")?),
        })
    }

    /// Decodes exactly one block header.
    pub fn decode(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Self::read(&mut r)?;
        r.finish()?;
        Ok(h)
    }

    /// The block's hash: SHA-256 of its encoded header.
    pub fn hash(&self) -> Hash {
        Hash::of(&self.encode())
    }

    /// The message the operator signs for this header in ledger `ledger`.
    pub fn signed_message(&self, ledger: &Hash) -> Vec<u8> {
        let mut m = Vec::with_capacity(BLOCK_DOMAIN.len() + 32 + BLOCK_HEADER_LEN);
        m.extend_from_slice(BLOCK_DOMAIN);
        m.extend_from_slice(&ledger.0);
        m.extend_from_slice(&self.encode());
        m
    }

    /// Signs this header as the operator of `ledger`.
    pub fn sign(&self, ledger: &Hash, operator: &SigningKey) -> SealedBlock {
        SealedBlock {
            header: *self,
            signature: operator.sign(&self.signed_message(ledger)).to_bytes(),
        }
    }
}

/// A block header with the operator's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedBlock {
    pub header: BlockHeader,
    pub signature: [u8; 64],
}
