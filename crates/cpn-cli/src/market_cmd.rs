//! `cpn market`: a party's side of the capacity market (`docs/market.md`) through a running
//! controller. Entries are signed here, with the party's own key file, for the controller's
//! ledger (its id) as the key's next entry (its sequence number); the controller only checks
//! and records them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::{Args, Subcommand};
use cpn_api::{
    AccountView, ContractView, DepositRequest, EntryReply, MarketEntry, MarketView, RoundReply,
};
use cpn_ledger::entry::RegisterAgent;
use cpn_ledger::{AccountId, Amount, Bid, Body, Entry, Hash, Offer, Resources, Sla, Window};
use cpn_units::Nanos;
use ed25519_dalek::SigningKey;

use crate::client::{Client, Remote, print_json};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum MarketCommand {
    /// Party keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Offers compute at a site (a provider), signed with --key.
    Offer(Box<OfferArgs>),
    /// Bids for compute (a consumer), signed with --key; the bid's most is held in escrow.
    Bid(Box<BidArgs>),
    /// Names the key an agent signs usage reports with for this provider (--key).
    RegisterAgent {
        #[command(flatten)]
        remote: Remote,
        /// The provider's key file.
        #[arg(long)]
        key: PathBuf,
        /// The agent's public key, 64 hex digits.
        #[arg(
            long,
            required_unless_present = "agent_key",
            conflicts_with = "agent_key"
        )]
        agent: Option<String>,
        /// The agent's key file (`cpn agent --key`), instead of --agent.
        #[arg(long)]
        agent_key: Option<PathBuf>,
    },
    /// Clears a round now (admin) and prints its contracts.
    Round {
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists contracts.
    Contracts {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        site: Option<String>,
        /// pending, placed, unplaced or settled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// An account's balance (--key FILE or --account HEX).
    Account {
        #[command(flatten)]
        remote: Remote,
        #[arg(long, required_unless_present = "account", conflicts_with = "account")]
        key: Option<PathBuf>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Deposits money paid into the market into an account (admin).
    Deposit {
        #[command(flatten)]
        remote: Remote,
        /// The account, 64 hex digits; or --key.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        account: Option<String>,
        /// The account's key file.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Micro-units (10^-6 of a unit).
        #[arg(long)]
        amount: u64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Makes a new ed25519 party key (mode 0600) and prints its account id.
    New {
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints a key file's account id.
    Show {
        #[arg(long)]
        key: PathBuf,
    },
}

/// What an order asks or offers.
#[derive(Debug, Args)]
pub(crate) struct Terms {
    /// Sustained GFLOPS.
    #[arg(long)]
    gflops: u64,
    /// Cores (0: not stated, or any).
    #[arg(long, default_value_t = 0)]
    cores: u32,
    #[arg(long, default_value_t = 0)]
    memory_mib: u64,
    /// The window's start: Unix seconds, or `+DURATION` from now (`+30 s`, `+1 h`).
    #[arg(long, allow_hyphen_values = true)]
    start: String,
    /// The window's end: Unix seconds, or `+DURATION` from now.
    #[arg(long, allow_hyphen_values = true)]
    end: String,
    #[arg(long, default_value_t = 20_000)]
    max_latency_us: u32,
    #[arg(long, default_value_t = 999_000)]
    min_availability_ppm: u32,
    #[arg(long, default_value_t = 1_000)]
    max_loss_ppm: u32,
}

#[derive(Debug, Args)]
pub(crate) struct OfferArgs {
    #[command(flatten)]
    remote: Remote,
    /// The provider's key file.
    #[arg(long)]
    key: PathBuf,
    /// The site, by name in the controller's scenario.
    #[arg(long)]
    site: String,
    #[command(flatten)]
    terms: Terms,
    /// The asking price, micro-units per compute-hour (1 TFLOPS for one hour).
    #[arg(long)]
    price: u64,
}

#[derive(Debug, Args)]
pub(crate) struct BidArgs {
    #[command(flatten)]
    remote: Remote,
    /// The consumer's key file.
    #[arg(long)]
    key: PathBuf,
    #[command(flatten)]
    terms: Terms,
    /// The most it pays, micro-units per compute-hour.
    #[arg(long)]
    max_price: u64,
}

/// A key file: 64 hex digits of an ed25519 seed.
pub(crate) fn read_key(path: &Path) -> Result<SigningKey, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad(format!("key file `{}`: {e}", path.display())))?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Failure::bad(format!(
                "key file `{}`: expected 64 hex digits (an ed25519 seed)",
                path.display()
            ))
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn account_of(key: &SigningKey) -> String {
    hex::encode(AccountId::of(key).0)
}

/// A query value, percent-encoded but for unreserved characters.
fn escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Unix seconds now.
fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A time: Unix seconds, or `+DURATION` from now.
fn time(flag: &str, text: &str) -> Result<u64, Failure> {
    let text = text.trim();
    match text.strip_prefix('+') {
        Some(d) => {
            let d: Nanos = d
                .trim()
                .parse()
                .map_err(|e| Failure::bad(format!("--{flag}: {e}")))?;
            Ok(now_s().saturating_add(d.0.div_ceil(1_000_000_000)))
        }
        None => text.parse().map_err(|_| {
            Failure::bad(format!(
                "--{flag}: expected Unix seconds or +DURATION (such as `+1 h`), got `{text}`"
            ))
        }),
    }
}

impl Terms {
    fn parts(&self) -> Result<(Resources, Window, Sla), Failure> {
        let window = Window {
            start: time("start", &self.start)?,
            end: time("end", &self.end)?,
        };
        if window.start >= window.end {
            return Err(Failure::bad(format!(
                "--end: {} is not after --start {}",
                window.end, window.start
            )));
        }
        Ok((
            Resources {
                gflops: self.gflops,
                cores: self.cores,
                memory_mib: self.memory_mib,
            },
            window,
            Sla {
                max_latency_us: self.max_latency_us,
                min_availability_ppm: self.min_availability_ppm,
                max_loss_ppm: self.max_loss_ppm,
            },
        ))
    }
}

/// Signs `body` as `key`'s next entry in the controller's ledger and posts it.
fn submit(client: &Client, key: &SigningKey, body: Body) -> Result<EntryReply, Failure> {
    let market: MarketView = client.get("/api/v1/market")?;
    let ledger: [u8; 32] = hex::decode(&market.ledger_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Failure::bad("GET /api/v1/market: ledger_id is not 64 hex digits"))?;
    let account: AccountView =
        client.get(&format!("/api/v1/market/accounts/{}", account_of(key)))?;
    let entry = Entry::sign(&Hash(ledger), key, account.seq + 1, body);
    let text = base64::engine::general_purpose::STANDARD.encode(entry.encode());
    client.post("/api/v1/market/entries", &MarketEntry { entry: text })
}

pub(crate) fn run(command: MarketCommand) -> Outcome {
    match command {
        MarketCommand::Key(KeyCommand::New { out }) => {
            if out.exists() {
                return Err(Failure::bad(format!(
                    "--out `{}`: exists; a key is never overwritten",
                    out.display()
                )));
            }
            let key = cpn_agent::identity::load_or_create(&out).map_err(Failure::bad)?;
            println!("{}", account_of(&key));
            Ok(())
        }
        MarketCommand::Key(KeyCommand::Show { key }) => {
            println!("{}", account_of(&read_key(&key)?));
            Ok(())
        }
        MarketCommand::Offer(args) => {
            let key = read_key(&args.key)?;
            let (resources, window, sla) = args.terms.parts()?;
            let body = Body::Offer(Offer {
                site: args.site.clone(),
                resources,
                window,
                price: Amount(args.price),
                sla,
            });
            print_json(&submit(&args.remote.require()?, &key, body)?)
        }
        MarketCommand::Bid(args) => {
            let key = read_key(&args.key)?;
            let (requirement, window, sla) = args.terms.parts()?;
            let body = Body::Bid(Bid {
                requirement,
                window,
                sla,
                max_price: Amount(args.max_price),
            });
            print_json(&submit(&args.remote.require()?, &key, body)?)
        }
        MarketCommand::RegisterAgent {
            remote,
            key,
            agent,
            agent_key,
        } => {
            let key = read_key(&key)?;
            let agent = match (agent, agent_key) {
                (Some(hex_key), _) => {
                    let bytes: [u8; 32] = hex::decode(hex_key.trim())
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| Failure::bad("--agent: expected 64 hex digits"))?;
                    AccountId(bytes)
                }
                (None, Some(path)) => AccountId::of(&read_key(&path)?),
                (None, None) => return Err(Failure::bad("give --agent or --agent-key")),
            };
            let body = Body::RegisterAgent(RegisterAgent { agent });
            print_json(&submit(&remote.require()?, &key, body)?)
        }
        MarketCommand::Round { remote } => {
            let reply: RoundReply = remote
                .require()?
                .post("/api/v1/market/rounds", &serde_json::json!({}))?;
            print_json(&reply)
        }
        MarketCommand::Contracts {
            remote,
            site,
            status,
            json,
        } => {
            let mut query = Vec::new();
            if let Some(s) = &site {
                query.push(format!("site={}", escape(s)));
            }
            if let Some(s) = &status {
                query.push(format!("status={}", escape(s)));
            }
            let path = if query.is_empty() {
                "/api/v1/market/contracts".to_string()
            } else {
                format!("/api/v1/market/contracts?{}", query.join("&"))
            };
            let list: Vec<ContractView> = remote.require()?.get(&path)?;
            if json {
                return print_json(&list);
            }
            for c in list {
                let payout = c.payout.map_or("-".to_string(), |p| {
                    format!("provider {} refund {}", p.to_provider, p.refund)
                });
                println!(
                    "{:>6} {:<9} site {:<18} [{}, {}) {} GFLOPS  consumer pays {}  {payout}{}",
                    c.id,
                    format!("{:?}", c.status).to_lowercase(),
                    c.site,
                    c.start,
                    c.end,
                    c.gflops,
                    c.consumer_total,
                    c.reason.map(|r| format!("  ({r})")).unwrap_or_default(),
                );
            }
            Ok(())
        }
        MarketCommand::Account {
            remote,
            key,
            account,
        } => {
            let account = match (account, key) {
                (Some(a), _) => a,
                (None, Some(k)) => account_of(&read_key(&k)?),
                (None, None) => return Err(Failure::bad("give --key or --account")),
            };
            let view: AccountView = remote
                .require()?
                .get(&format!("/api/v1/market/accounts/{account}"))?;
            print_json(&view)
        }
        MarketCommand::Deposit {
            remote,
            account,
            key,
            amount,
        } => {
            let account = match (account, key) {
                (Some(a), _) => a,
                (None, Some(k)) => account_of(&read_key(&k)?),
                (None, None) => return Err(Failure::bad("give --account or --key")),
            };
            let reply: EntryReply = remote.require()?.post(
                "/api/v1/market/deposits",
                &DepositRequest { account, amount },
            )?;
            print_json(&reply)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_unix_seconds_or_from_now() {
        assert_eq!(time("start", "1800000000").ok(), Some(1_800_000_000));
        let soon = time("start", "+1 h").ok().unwrap_or(0);
        assert!(soon >= now_s() + 3_599 && soon <= now_s() + 3_600, "{soon}");
        assert!(time("start", "tomorrow").is_err());
        assert!(time("start", "+ever").is_err());
    }
}
