//! `cpn ledger`: the market's ledger file, fetched from a controller and checked offline
//! (`docs/ledger.md`).

use std::path::PathBuf;

use clap::Subcommand;
use cpn_api::{InclusionProofView, MarketView};
use cpn_ledger::Hash;

use crate::client::Remote;
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Downloads the whole ledger file.
    Get {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        out: PathBuf,
    },
    /// Checks a ledger file offline: every signature, the chain of blocks, the Merkle roots
    /// and every rule of the market. Prints a summary, or names the first entry that cannot be
    /// trusted and exits 2.
    Verify { file: PathBuf },
    /// Fetches the proof that entry INDEX is in the controller's ledger and checks it against
    /// the root the controller signs now.
    Prove {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        index: u64,
    },
}

fn hash(field: &str, text: &str) -> Result<Hash, Failure> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .map(Hash)
        .ok_or_else(|| Failure::bad(format!("{field}: expected 64 hex digits, got `{text}`")))
}

pub(crate) fn run(command: LedgerCommand) -> Outcome {
    match command {
        LedgerCommand::Get { remote, out } => {
            let bytes = remote.require()?.get_bytes("/api/v1/ledger")?;
            std::fs::write(&out, &bytes)
                .map_err(|e| Failure::bad(format!("--out `{}`: {e}", out.display())))?;
            println!("{} bytes written to {}", bytes.len(), out.display());
            Ok(())
        }
        LedgerCommand::Verify { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::bad(format!("`{}`: {e}", file.display())))?;
            let s = cpn_ledger::verify(&bytes)
                .map_err(|e| Failure::bad(format!("`{}`: {e}", file.display())))?;
            println!(
                "{}: verified: {} entries in {} blocks; root {}; head {} at {}",
                file.display(),
                s.entries,
                s.blocks,
                hex::encode(s.root.0),
                hex::encode(s.head.0),
                s.time
            );
            println!(
                "ledger {}; deposits {} = balances {} + escrow {}",
                hex::encode(s.ledger_id.0),
                s.totals.deposits,
                s.totals.balances,
                s.totals.escrow
            );
            Ok(())
        }
        LedgerCommand::Prove { remote, index } => {
            let client = remote.require()?;
            let market: MarketView = client.get("/api/v1/market")?;
            let p: InclusionProofView = client.get(&format!(
                "/api/v1/ledger/inclusion?index={index}&size={}",
                market.entries
            ))?;
            let root = hash("root", &market.root)?;
            if hash("root", &p.root)? != root {
                return Err(Failure::bad(
                    "the proof's root is not the ledger's root the controller shows",
                ));
            }
            let proof = p
                .proof
                .iter()
                .map(|h| hash("proof", h))
                .collect::<Result<Vec<_>, _>>()?;
            cpn_ledger::verify_inclusion(&hash("leaf", &p.leaf)?, index, p.size, &proof, &root)
                .map_err(|e| Failure::bad(format!("the proof does not verify: {e}")))?;
            println!(
                "entry {index} is in the ledger of {} entries with root {}: {} hashes, verified",
                p.size,
                market.root,
                proof.len()
            );
            Ok(())
        }
    }
}
