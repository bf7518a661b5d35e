//! The Linux data plane of cpn. It owns two things:
//!
//! - **Programming a namespace** behind the [`Dataplane`] trait: a desired [`NsState`]
//!   (IPv6 addresses, plain routes, SRv6 `seg6` headend routes, `seg6local` End, End.X and
//!   End.DT6 routes, HTB classes and filters for slices) is applied idempotently: applying the
//!   same state twice changes nothing, and what cpn owns but no longer wants is removed.
//!   [`Linux`] does it with rtnetlink (routes and addresses, typed seg6 and seg6local
//!   encapsulations) and `tc` (HTB, u32); the rest of cpn never knows which.
//! - **The emulated network** ([`emu`]): one namespace per router, site and client of a
//!   scenario, veth links shaped to the scenario's bandwidth, the SID plan of
//!   `cpn_route::srv6`, and its complete teardown.
//! - **Steering** ([`steer`]): the controller's reservations as headend routes and slice
//!   classes in the emulation.
//! - **Measuring it** ([`ifit`], [`stamp`], [`delay`]): loss per hop by alternate marking
//!   (RFC 9341) and delay by STAMP probes (RFC 8762) along steered paths.
//!
//! It must never be linked into the pure core: it does I/O, needs root, and changes the
//! machine's namespaces. Nothing here decides anything; it programs what it is told.

mod command;
pub mod delay;
pub mod emu;
mod error;
pub mod ifit;
mod netlink;
pub mod stamp;
mod state;
pub mod steer;
mod tc;

pub use error::DataplaneError;
pub use netlink::netns_path;
pub use state::{
    Address, Changes, LocalBehavior, MAIN_TABLE, NsState, RTPROT_CPN, RouteAction, RouteKey,
    Seg6Mode, Shaping, SliceClass,
};

use std::collections::{BTreeMap, BTreeSet};

/// A data plane that makes a namespace hold a desired state.
pub trait Dataplane {
    /// Makes namespace `ns` hold `desired`: adds what is missing, replaces what differs and
    /// removes what cpn owns and `desired` does not list. Returns what changed; applying the
    /// same state again returns no change.
    fn apply(&mut self, ns: &str, desired: &NsState) -> Result<Changes, DataplaneError>;

    /// What cpn owns in `ns` now: its addresses, its routes, and the interfaces with its
    /// HTB tree at their link rate (slice classes are compared by `apply`, not returned).
    fn read(&mut self, ns: &str) -> Result<NsState, DataplaneError>;
}

/// The data plane of the running Linux kernel.
#[derive(Debug, Default)]
pub struct Linux;

impl Dataplane for Linux {
    fn apply(&mut self, ns: &str, desired: &NsState) -> Result<Changes, DataplaneError> {
        let mut nl = netlink::Netlink::open(ns)?;
        let mut changes = Changes::default();

        // Addresses first: gateways of routes must be on a connected prefix.
        let have: BTreeSet<Address> = nl.addresses()?.into_iter().collect();
        let want: BTreeSet<Address> = desired.addresses.iter().cloned().collect();
        for a in want.difference(&have) {
            nl.add_address(a)?;
            changes.added.push(a.to_string());
        }

        let current = nl.routes()?;
        for (key, action) in &desired.routes {
            match current.get(key) {
                Some(Some(have)) if have == action => {}
                Some(_) => {
                    nl.put_route(key, action)?;
                    changes.replaced.push(key.to_string());
                }
                None => {
                    nl.put_route(key, action)?;
                    changes.added.push(key.to_string());
                }
            }
        }
        for key in current.keys().filter(|k| !desired.routes.contains_key(k)) {
            nl.delete_route(key)?;
            changes.removed.push(key.to_string());
        }
        for a in have.difference(&want) {
            nl.delete_address(a)?;
            changes.removed.push(a.to_string());
        }

        let devs: Vec<&str> = desired.shaping.keys().map(String::as_str).collect();
        let trees = tc::read_all(ns, &devs)?;
        for (dev, have) in &trees {
            let want = desired.shaping.get(dev).map(|s| (s, tc::desired(s)));
            let want = want.as_ref().map(|(s, t)| (*s, t));
            changes.extend(tc::apply(ns, dev, have, want)?);
        }
        Ok(changes)
    }

    fn read(&mut self, ns: &str) -> Result<NsState, DataplaneError> {
        let mut nl = netlink::Netlink::open(ns)?;
        let mut addresses = nl.addresses()?;
        addresses.sort();
        let routes: BTreeMap<RouteKey, RouteAction> = nl
            .routes()?
            .into_iter()
            .filter_map(|(k, a)| a.map(|a| (k, a)))
            .collect();
        let shaping = tc::read_all(ns, &[])?
            .into_iter()
            .filter(|(_, t)| t.root)
            .map(|(dev, t)| {
                let rate = t
                    .classes
                    .get(&Shaping::ROOT_MINOR)
                    .and_then(|(_, r, _)| tc_rate_bps(r))
                    .unwrap_or(0);
                (
                    dev,
                    Shaping {
                        rate_bps: rate,
                        slices: Vec::new(),
                    },
                )
            })
            .collect();
        Ok(NsState {
            addresses,
            routes,
            shaping,
        })
    }
}

/// A rate as `tc` prints it (`40Mbit`) in bit/s.
fn tc_rate_bps(text: &str) -> Option<u64> {
    let number = text.strip_suffix("bit")?;
    let (digits, scale) = match number.char_indices().last()? {
        (i, 'K') => (&number[..i], 1_000),
        (i, 'M') => (&number[..i], 1_000_000),
        (i, 'G') => (&number[..i], 1_000_000_000),
        (i, 'T') => (&number[..i], 1_000_000_000_000),
        _ => (number, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}
