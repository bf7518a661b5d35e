//! Finding the routing headers of a captured packet: through Ethernet (with VLAN tags), a
//! Linux cooked header or none, the IPv6 header and its extension headers, and on into an
//! SRv6 encapsulation's inner packet (Next Header 41, IPv6, or 143, Ethernet, RFC 8986).
//! Packets that are not IPv6 have no routing header and are no error.

use std::fmt;
use std::net::Ipv6Addr;

use thiserror::Error;

use crate::pcap::LinkType;
use crate::srh::{Srh, SrhError};

/// A routing header found in a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingHeader {
    /// Type 4.
    Srh(Srh),
    /// Type 0, deprecated by RFC 5095: its reserved word and addresses.
    Type0 {
        segments_left: u8,
        reserved: u32,
        addresses: Vec<Ipv6Addr>,
    },
    /// Any other type (2 for Mobile IPv6, 3 for RPL ...), not decoded further.
    Other {
        routing_type: u8,
        segments_left: u8,
        hdr_ext_len: u8,
    },
}

/// A routing header and where it was: its offset in the packet and the addresses of the
/// IPv6 header that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub offset: usize,
    pub source: Ipv6Addr,
    pub destination: Ipv6Addr,
    pub header: RoutingHeader,
}

/// Why a packet's headers could not be walked. The offset is from the packet's first byte.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("at byte {offset}: {problem}")]
pub struct PacketError {
    pub offset: usize,
    pub problem: Problem,
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("{what} cut after {have} of {need} bytes")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("SRH {0}")]
    Srh(SrhError),
    #[error("encapsulations nested more than {0} deep")]
    TooDeep(usize),
}

/// How many packets inside packets are followed.
const MAX_DEPTH: usize = 8;

const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 2] = [0x8100, 0x88a8];

/// Every routing header in the packet, outermost first.
pub fn routing_headers(link: LinkType, data: &[u8]) -> Result<Vec<Found>, PacketError> {
    let mut found = Vec::new();
    let mut walk = Walk {
        data,
        found: &mut found,
    };
    match link {
        LinkType::Ethernet => walk.ethernet(0, 0)?,
        LinkType::Raw => walk.ip(0, 0)?,
        LinkType::LinuxSll => {
            let head = walk.take(0, 16, "Linux cooked header")?;
            if u16::from_be_bytes([head[14], head[15]]) == ETHERTYPE_IPV6 {
                walk.ipv6(16, 0)?;
            }
        }
    }
    Ok(found)
}

struct Walk<'a, 'b> {
    data: &'a [u8],
    found: &'b mut Vec<Found>,
}

impl<'a> Walk<'a, '_> {
    fn take(&self, at: usize, need: usize, what: &'static str) -> Result<&'a [u8], PacketError> {
        self.data
            .get(at..at.saturating_add(need))
            .ok_or(PacketError {
                offset: at,
                problem: Problem::Truncated {
                    what,
                    need,
                    have: self.data.len().saturating_sub(at),
                },
            })
    }

    fn ethernet(&mut self, mut at: usize, depth: usize) -> Result<(), PacketError> {
        let head = self.take(at, 14, "Ethernet header")?;
        let mut ethertype = u16::from_be_bytes([head[12], head[13]]);
        at += 14;
        while ETHERTYPE_VLAN.contains(&ethertype) {
            let tag = self.take(at, 4, "VLAN tag")?;
            ethertype = u16::from_be_bytes([tag[2], tag[3]]);
            at += 4;
        }
        if ethertype == ETHERTYPE_IPV6 {
            self.ipv6(at, depth)?;
        }
        Ok(())
    }

    fn ip(&mut self, at: usize, depth: usize) -> Result<(), PacketError> {
        match self.data.get(at) {
            Some(b) if b >> 4 == 6 => self.ipv6(at, depth),
            _ => Ok(()),
        }
    }

    fn ipv6(&mut self, at: usize, depth: usize) -> Result<(), PacketError> {
        if depth > MAX_DEPTH {
            return Err(PacketError {
                offset: at,
                problem: Problem::TooDeep(MAX_DEPTH),
            });
        }
        let head = self.take(at, 40, "IPv6 header")?;
        let address = |b: &[u8]| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(b);
            Ipv6Addr::from(octets)
        };
        let (source, destination) = (address(&head[8..24]), address(&head[24..40]));
        let mut next = head[6];
        let mut at = at + 40;
        loop {
            match next {
                // Hop-by-hop and destination options: 8 * (length + 1) bytes.
                0 | 60 => {
                    let h = self.take(at, 2, "options header")?;
                    next = h[0];
                    at += 8 * (usize::from(h[1]) + 1);
                }
                43 => {
                    let h = self.take(at, 4, "routing header")?;
                    let (hdr_ext_len, routing_type, segments_left) = (h[1], h[2], h[3]);
                    let len = 8 * (usize::from(hdr_ext_len) + 1);
                    let header = match routing_type {
                        4 => {
                            let (srh, _) =
                                Srh::decode(&self.data[at..]).map_err(|e| PacketError {
                                    offset: at,
                                    problem: Problem::Srh(e),
                                })?;
                            RoutingHeader::Srh(srh)
                        }
                        0 => {
                            let whole = self.take(at, len, "type 0 routing header")?;
                            RoutingHeader::Type0 {
                                segments_left,
                                reserved: u32::from_be_bytes([
                                    whole[4], whole[5], whole[6], whole[7],
                                ]),
                                addresses: whole[8..]
                                    .chunks_exact(16)
                                    .take(usize::from(hdr_ext_len / 2))
                                    .map(address)
                                    .collect(),
                            }
                        }
                        _ => {
                            self.take(at, len, "routing header")?;
                            RoutingHeader::Other {
                                routing_type,
                                segments_left,
                                hdr_ext_len,
                            }
                        }
                    };
                    self.found.push(Found {
                        offset: at,
                        source,
                        destination,
                        header,
                    });
                    next = h[0];
                    at += len;
                }
                // Fragment: 8 bytes; only the first fragment carries the next headers.
                44 => {
                    let h = self.take(at, 8, "fragment header")?;
                    if u16::from_be_bytes([h[2], h[3]]) >> 3 != 0 {
                        return Ok(());
                    }
                    next = h[0];
                    at += 8;
                }
                // Authentication header: 4 * (length + 2) bytes.
                51 => {
                    let h = self.take(at, 2, "authentication header")?;
                    next = h[0];
                    at += 4 * (usize::from(h[1]) + 2);
                }
                41 => return self.ipv6(at, depth + 1),
                143 => return self.ethernet(at, depth + 1),
                _ => return Ok(()),
            }
        }
    }
}

/// tcpdump's verbose decode of the header.
impl fmt::Display for RoutingHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutingHeader::Srh(srh) => srh.fmt(f),
            RoutingHeader::Type0 {
                segments_left,
                reserved,
                addresses,
            } => {
                write!(
                    f,
                    "RT6 (len={}, type=0 [Deprecated], segleft={segments_left}, rsv={reserved:#x}",
                    addresses.len() * 2
                )?;
                for (i, a) in addresses.iter().enumerate() {
                    write!(f, ", [{i}]{a}")?;
                }
                write!(f, ")")
            }
            RoutingHeader::Other {
                routing_type,
                segments_left,
                hdr_ext_len,
            } => write!(
                f,
                "RT6 (len={hdr_ext_len}, type={routing_type}, segleft={segments_left})"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with an IPv6 header whose payload is `payload` after next header `nh`.
    fn frame(nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[nh, 64]);
        f.extend_from_slice(&[0xfc; 16]);
        f.extend_from_slice(&[0xfd; 16]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn an_encapsulated_packet_yields_both_headers() {
        let outer = Srh::new(41, vec!["::2".parse().expect("addr")]);
        let inner = Srh::new(59, vec!["::3".parse().expect("addr")]);
        // The inner IPv6 header with its own SRH.
        let inner_packet = &frame(43, &inner.encode().expect("encodes"))[14..];
        let mut payload = outer.encode().expect("encodes");
        payload.extend_from_slice(inner_packet);
        let found = routing_headers(LinkType::Ethernet, &frame(43, &payload)).expect("walks");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].header, RoutingHeader::Srh(outer));
        assert_eq!(found[0].offset, 54);
        assert_eq!(found[1].header, RoutingHeader::Srh(inner));
    }

    #[test]
    fn hop_by_hop_options_are_stepped_over_and_ipv4_ignored() {
        let srh = Srh::new(59, vec!["::2".parse().expect("addr")]);
        let mut payload = vec![43, 0, 1, 4, 0, 0, 0, 0];
        payload.extend_from_slice(&srh.encode().expect("encodes"));
        let found = routing_headers(LinkType::Ethernet, &frame(0, &payload)).expect("walks");
        assert_eq!(found.len(), 1);
        let mut v4 = frame(0, &payload);
        v4[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        assert_eq!(routing_headers(LinkType::Ethernet, &v4), Ok(vec![]));
    }

    #[test]
    fn a_cut_ipv6_header_is_named() {
        let f = frame(59, &[]);
        assert_eq!(
            routing_headers(LinkType::Ethernet, &f[..30]),
            Err(PacketError {
                offset: 14,
                problem: Problem::Truncated {
                    what: "IPv6 header",
                    need: 40,
                    have: 16
                }
            })
        );
    }
}
