//! The `iproute2` commands that put a segment list and a SID plan into a Linux data plane:
//! `encap seg6` routes at the headend and `encap seg6local` routes for the SIDs each router
//! instantiates. The text is what `ip` accepts (iproute2 5.x and later); this module only
//! writes it, the data plane adapter runs it.

use std::net::Ipv6Addr;

use cpn_model::{RouterId, SiteId};

use super::Srv6Error;
use super::compile::SegmentList;
use super::plan::{Ipv6Prefix, Sid, SidPlan};
use crate::graph::ArcId;

/// Where an End.X SID sends packets: the neighbour's address on the link and the local
/// interface towards it. Parallel links need distinct addresses (one subnet per link), or
/// the kernel cannot tell which link an End.X means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    pub addr: Ipv6Addr,
    pub dev: String,
}

/// The headend route that steers traffic for `dest` with the list, for example
/// `ip -6 route add 2001:db8:5::/64 encap seg6 mode encap segs fcbb:bb00:2::1,fcbb:bb00:4::d6:1 dev eth0`.
/// `segs` is comma-separated with the first segment first (iproute2 reverses it into the
/// segment routing header).
///
/// A list that ends with an End.DT6 is sent in `mode encap`: a new outer header that the
/// End.DT6 removes. Any other list is sent in `mode inline`, which inserts the header into
/// the packet and keeps its destination as the final segment: Linux drops a packet that
/// reaches an End or End.X with no segment left, so an encapsulated list must end by
/// decapsulating. An empty list is an error: there is nothing to steer with.
pub fn linux_route_command(
    dest: Ipv6Prefix,
    list: &SegmentList,
    dev: &str,
) -> Result<String, Srv6Error> {
    check_device(dev)?;
    let Some(last) = list.segments().last() else {
        return Err(Srv6Error::EmptySegmentList);
    };
    let mode = match last.function {
        Sid::EndDt6(_) => "encap",
        Sid::End(_) | Sid::EndX(_) => "inline",
    };
    let segs: Vec<String> = list.sids().iter().map(Ipv6Addr::to_string).collect();
    Ok(format!(
        "ip -6 route add {dest} encap seg6 mode {mode} segs {} dev {dev}",
        segs.join(",")
    ))
}

/// The `seg6local` routes that instantiate every SID of `router` ([`SidPlan::local_sids`]):
/// End on `dev`, End.X towards `nexthop(arc)`, End.DT6 into routing table `table(site)`
/// (a table with the site's service routes; `vrftable` would be the choice with VRFs). The
/// caller owns the addressing of links, hence the two functions.
pub fn linux_local_sid_commands(
    plan: &SidPlan,
    router: RouterId,
    dev: &str,
    nexthop: impl Fn(ArcId) -> Nexthop,
    table: impl Fn(SiteId) -> u32,
) -> Result<Vec<String>, Srv6Error> {
    check_device(dev)?;
    let mut commands = Vec::new();
    for (sid, function) in plan.local_sids(router)? {
        let route = format!("ip -6 route add {sid}/128 encap seg6local action");
        commands.push(match function {
            Sid::End(_) => format!("{route} End dev {dev}"),
            Sid::EndX(arc) => {
                let hop = nexthop(arc);
                check_device(&hop.dev)?;
                format!("{route} End.X nh6 {} dev {}", hop.addr, hop.dev)
            }
            Sid::EndDt6(site) => format!("{route} End.DT6 table {} dev {dev}", table(site)),
        });
    }
    Ok(commands)
}

/// Whether `name` can be a Linux interface name. It is pasted into a command line, so only
/// the characters interface names are made of in practice are accepted, never anything a
/// shell or `ip` would split or interpret.
fn check_device(name: &str) -> Result<(), Srv6Error> {
    let fits = (1..16).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if fits {
        Ok(())
    } else {
        Err(Srv6Error::BadDevice {
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_are_checked() {
        for good in ["eth0", "lo", "veth-a.10", "wg_1", "a23456789012345"] {
            assert_eq!(check_device(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a234567890123456",
            "eth0 x",
            "a/b",
            "$(x)",
            ".",
            "..",
            "eth0;ls",
        ] {
            assert!(check_device(bad).is_err(), "{bad}");
        }
    }
}
