//! Routes and addresses of one namespace over rtnetlink, with the typed `seg6` and
//! `seg6local` encapsulations of `netlink-packet-route`.
//!
//! A netlink socket belongs to the network namespace it was opened in, whatever thread uses
//! it later. [`Netlink::open`] therefore opens it on a short-lived thread that first enters
//! the namespace (`setns`), and hands it back: the calling thread never changes namespace.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkMessage, State};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteLwEnCapType, RouteLwTunnelEncap, RouteMessage,
    RouteProtocol, RouteScope, RouteSeg6IpTunnel, RouteSeg6LocalTunnel, RouteType, Seg6Header,
    Seg6LocalAction,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::sched::{CloneFlags, setns};

use crate::error::DataplaneError;
use crate::state::{Address, LocalBehavior, RTPROT_CPN, RouteAction, RouteKey, Seg6Mode};

/// The path of a named namespace, as `ip netns add` makes it.
pub fn netns_path(ns: &str) -> String {
    format!("/run/netns/{ns}")
}

/// An rtnetlink socket inside one namespace, with its interfaces by name.
#[derive(Debug)]
pub(crate) struct Netlink {
    ns: String,
    socket: Socket,
    seq: u32,
    index: HashMap<String, u32>,
    name: HashMap<u32, String>,
}

impl Netlink {
    /// Opens a socket in namespace `ns` and reads its interfaces.
    pub(crate) fn open(ns: &str) -> Result<Netlink, DataplaneError> {
        let fail = |reason: String| DataplaneError::Namespace {
            ns: ns.to_string(),
            reason,
        };
        let file = File::open(netns_path(ns)).map_err(|e| fail(e.to_string()))?;
        let socket = std::thread::scope(|s| {
            s.spawn(|| -> Result<Socket, String> {
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))?;
                let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| e.to_string())?;
                socket.bind_auto().map_err(|e| e.to_string())?;
                socket
                    .connect(&SocketAddr::new(0, 0))
                    .map_err(|e| e.to_string())?;
                Ok(socket)
            })
            .join()
            .unwrap_or_else(|_| Err("the thread entering it stopped".to_string()))
        })
        .map_err(fail)?;
        let mut nl = Netlink {
            ns: ns.to_string(),
            socket,
            seq: 0,
            index: HashMap::new(),
            name: HashMap::new(),
        };
        nl.read_links()?;
        Ok(nl)
    }

    fn read_links(&mut self) -> Result<(), DataplaneError> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
            "interfaces",
            "dump",
        )?;
        for reply in replies {
            if let RouteNetlinkMessage::NewLink(link) = reply {
                for attr in &link.attributes {
                    if let LinkAttribute::IfName(name) = attr {
                        self.index.insert(name.clone(), link.header.index);
                        self.name.insert(link.header.index, name.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// The interfaces (other than `lo`) whose operational state is not up yet. A veth that
    /// was just set up drops what it is given until the kernel's link watcher activates it,
    /// up to a second later.
    pub(crate) fn not_up(&mut self) -> Result<Vec<String>, DataplaneError> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
            "interfaces",
            "dump",
        )?;
        let mut out = Vec::new();
        for reply in replies {
            let RouteNetlinkMessage::NewLink(link) = reply else {
                continue;
            };
            let mut name = None;
            let mut up = false;
            for attr in &link.attributes {
                match attr {
                    LinkAttribute::IfName(n) => name = Some(n.clone()),
                    LinkAttribute::OperState(State::Up) => up = true,
                    _ => {}
                }
            }
            if let Some(name) = name
                && name != "lo"
                && !up
            {
                out.push(name);
            }
        }
        Ok(out)
    }

    fn ifindex(&self, dev: &str, object: &dyn std::fmt::Display) -> Result<u32, DataplaneError> {
        self.index
            .get(dev)
            .copied()
            .ok_or_else(|| DataplaneError::NoDevice {
                ns: self.ns.clone(),
                object: object.to_string(),
                dev: dev.to_string(),
            })
    }

    /// Sends one request and collects the replies: every message of a dump, or nothing for
    /// an acknowledged change. A refusal is an error naming `object` and the kernel's errno.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        object: &str,
        op: &'static str,
    ) -> Result<Vec<RouteNetlinkMessage>, DataplaneError> {
        let fail = |message: String| DataplaneError::Netlink {
            ns: self.ns.clone(),
            object: object.to_string(),
            op,
            message,
        };
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket
            .send(&buf, 0)
            .map_err(|e| fail(format!("send: {e}")))?;
        let mut replies = Vec::new();
        let mut receive = vec![0u8; 1 << 16];
        loop {
            let size = self
                .socket
                .recv(&mut &mut receive[..], 0)
                .map_err(|e| fail(format!("receive: {e}")))?;
            let mut offset = 0;
            while offset < size {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&receive[offset..size])
                        .map_err(|e| fail(format!("cannot decode the reply: {e}")))?;
                let length = reply.header.length as usize;
                let ours = reply.header.sequence_number == self.seq;
                match reply.payload {
                    _ if !ours => {}
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(replies),
                            Some(_) => Err(fail(e.to_io().to_string())),
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// The IPv6 routes of every table that carry cpn's protocol number. A route whose shape
    /// cpn would not have written (several next hops, another encapsulation) is returned as
    /// `None`, so that it is replaced or removed.
    pub(crate) fn routes(
        &mut self,
    ) -> Result<BTreeMap<RouteKey, Option<RouteAction>>, DataplaneError> {
        let mut query = RouteMessage::default();
        query.header.address_family = AddressFamily::Inet6;
        let replies = self.request(
            RouteNetlinkMessage::GetRoute(query),
            NLM_F_DUMP,
            "routes",
            "dump",
        )?;
        let mut routes = BTreeMap::new();
        for reply in replies {
            let RouteNetlinkMessage::NewRoute(route) = reply else {
                continue;
            };
            if route.header.protocol != RouteProtocol::Other(RTPROT_CPN) {
                continue;
            }
            let (key, action) = self.read_route(&route);
            routes.insert(key, action);
        }
        Ok(routes)
    }

    fn read_route(&self, route: &RouteMessage) -> (RouteKey, Option<RouteAction>) {
        let mut table = u32::from(route.header.table);
        let mut dst = Ipv6Addr::UNSPECIFIED;
        let mut gateway = None;
        let mut oif = None;
        let mut encap = None;
        for attr in &route.attributes {
            match attr {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(RouteAddress::Inet6(a)) => dst = *a,
                RouteAttribute::Gateway(RouteAddress::Inet6(a)) => gateway = Some(*a),
                RouteAttribute::Oif(i) => oif = Some(*i),
                RouteAttribute::Encap(e) => encap = Some(e),
                _ => {}
            }
        }
        let key = RouteKey {
            table,
            dst,
            len: route.header.destination_prefix_length,
        };
        let dev = oif.and_then(|i| self.name.get(&i).cloned());
        let action = dev.and_then(|dev| match (encap, gateway) {
            (None, Some(gateway)) => Some(RouteAction::Via { gateway, dev }),
            (None, None) => Some(RouteAction::Dev { dev }),
            (Some(encap), None) => read_encap(encap, dev),
            (Some(_), Some(_)) => None,
        });
        (key, action)
    }

    /// Adds or replaces one route, marked as cpn's.
    pub(crate) fn put_route(
        &mut self,
        key: &RouteKey,
        action: &RouteAction,
    ) -> Result<(), DataplaneError> {
        let object = key.to_string();
        let oif = self.ifindex(action.dev(), &object)?;
        let mut route = route_message(key);
        route.attributes.push(RouteAttribute::Oif(oif));
        match action {
            RouteAction::Via { gateway, .. } => route
                .attributes
                .push(RouteAttribute::Gateway(RouteAddress::Inet6(*gateway))),
            RouteAction::Dev { .. } => route.header.scope = RouteScope::Link,
            RouteAction::Seg6 { mode, segs, .. } => {
                if segs.is_empty() {
                    return Err(DataplaneError::invalid(
                        &self.ns,
                        &object,
                        "a seg6 route needs at least one segment",
                    ));
                }
                let mut header = Seg6Header::default();
                // The crate writes the list last segment first, as the SRH holds it; an
                // inline SRH reserves index 0 for the packet's own destination, which the
                // kernel fills in, as iproute2 does.
                header.segments = segs.clone();
                header.mode = match mode {
                    Seg6Mode::Encap => netlink_packet_route::route::Seg6Mode::Encap,
                    Seg6Mode::Inline => {
                        header.segments.push(Ipv6Addr::UNSPECIFIED);
                        netlink_packet_route::route::Seg6Mode::Inline
                    }
                };
                route
                    .attributes
                    .push(RouteAttribute::EncapType(RouteLwEnCapType::Seg6));
                route
                    .attributes
                    .push(RouteAttribute::Encap(vec![RouteLwTunnelEncap::Seg6(
                        RouteSeg6IpTunnel::Seg6(header),
                    )]));
            }
            RouteAction::Seg6Local { behavior, .. } => {
                let mut attrs = Vec::new();
                match behavior {
                    LocalBehavior::End => {
                        attrs.push(RouteSeg6LocalTunnel::Action(Seg6LocalAction::End))
                    }
                    LocalBehavior::EndX { nh6 } => {
                        attrs.push(RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndX));
                        attrs.push(RouteSeg6LocalTunnel::Nh6(*nh6));
                    }
                    LocalBehavior::EndDt6 { table } => {
                        attrs.push(RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndDt6));
                        attrs.push(RouteSeg6LocalTunnel::Table(*table));
                    }
                }
                route
                    .attributes
                    .push(RouteAttribute::EncapType(RouteLwEnCapType::Seg6Local));
                route.attributes.push(RouteAttribute::Encap(
                    attrs
                        .into_iter()
                        .map(RouteLwTunnelEncap::Seg6Local)
                        .collect(),
                ));
            }
        }
        self.request(
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE | NLM_F_REPLACE,
            &object,
            "add",
        )
        .map(drop)
    }

    pub(crate) fn delete_route(&mut self, key: &RouteKey) -> Result<(), DataplaneError> {
        let mut route = route_message(key);
        route.header.scope = RouteScope::NoWhere;
        self.request(
            RouteNetlinkMessage::DelRoute(route),
            0,
            &key.to_string(),
            "delete",
        )
        .map(drop)
    }

    /// The global IPv6 addresses of every interface (link-local ones are the kernel's).
    pub(crate) fn addresses(&mut self) -> Result<Vec<Address>, DataplaneError> {
        let mut query = AddressMessage::default();
        query.header.family = AddressFamily::Inet6;
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(query),
            NLM_F_DUMP,
            "addresses",
            "dump",
        )?;
        let mut out = Vec::new();
        for reply in replies {
            let RouteNetlinkMessage::NewAddress(a) = reply else {
                continue;
            };
            if a.header.family != AddressFamily::Inet6 || a.header.scope != AddressScope::Universe {
                continue;
            }
            let Some(dev) = self.name.get(&a.header.index) else {
                continue;
            };
            for attr in &a.attributes {
                if let AddressAttribute::Address(IpAddr::V6(addr)) = attr
                    && *addr != Ipv6Addr::LOCALHOST
                {
                    out.push(Address {
                        dev: dev.clone(),
                        addr: *addr,
                        len: a.header.prefix_len,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Adds an address without duplicate address detection: the emulated links are
    /// point-to-point and a tentative address could not be used for a second.
    pub(crate) fn add_address(&mut self, address: &Address) -> Result<(), DataplaneError> {
        let object = address.to_string();
        let index = self.ifindex(&address.dev, &object)?;
        let message = address_message(index, address);
        self.request(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_REPLACE,
            &object,
            "add",
        )
        .map(drop)
    }

    pub(crate) fn delete_address(&mut self, address: &Address) -> Result<(), DataplaneError> {
        let object = address.to_string();
        let index = self.ifindex(&address.dev, &object)?;
        let message = address_message(index, address);
        self.request(
            RouteNetlinkMessage::DelAddress(message),
            0,
            &object,
            "delete",
        )
        .map(drop)
    }
}

fn address_message(index: u32, address: &Address) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = AddressFamily::Inet6;
    message.header.prefix_len = address.len;
    message.header.index = index;
    message.header.scope = AddressScope::Universe;
    message
        .attributes
        .push(AddressAttribute::Address(IpAddr::V6(address.addr)));
    message
        .attributes
        .push(AddressAttribute::Flags(AddressFlags::Nodad));
    message
}

fn route_message(key: &RouteKey) -> RouteMessage {
    let mut route = RouteMessage::default();
    route.header.address_family = AddressFamily::Inet6;
    route.header.destination_prefix_length = key.len;
    route.header.table = u8::try_from(key.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
    route.header.protocol = RouteProtocol::Other(RTPROT_CPN);
    route.header.scope = RouteScope::Universe;
    route.header.kind = RouteType::Unicast;
    route.attributes.push(RouteAttribute::Table(key.table));
    route
        .attributes
        .push(RouteAttribute::Destination(RouteAddress::Inet6(key.dst)));
    route
}

/// A `seg6` or `seg6local` encapsulation as cpn writes them, or `None` for anything else.
fn read_encap(encap: &[RouteLwTunnelEncap], dev: String) -> Option<RouteAction> {
    let mut seg6 = None;
    let mut action = None;
    let mut nh6 = None;
    let mut table = None;
    for e in encap {
        match e {
            RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h)) => seg6 = Some(h),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Action(a)) => action = Some(*a),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Nh6(a)) => nh6 = Some(*a),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Table(t)) => table = Some(*t),
            _ => {}
        }
    }
    if let Some(h) = seg6 {
        let mut segs = h.segments.clone();
        let mode = match h.mode {
            netlink_packet_route::route::Seg6Mode::Encap => Seg6Mode::Encap,
            netlink_packet_route::route::Seg6Mode::Inline => {
                // Drop the slot reserved for the destination (see `put_route`).
                segs.pop();
                Seg6Mode::Inline
            }
            _ => return None,
        };
        return Some(RouteAction::Seg6 { mode, segs, dev });
    }
    let behavior = match (action?, nh6, table) {
        (Seg6LocalAction::End, None, None) => LocalBehavior::End,
        (Seg6LocalAction::EndX, Some(nh6), None) => LocalBehavior::EndX { nh6 },
        (Seg6LocalAction::EndDt6, None, Some(table)) => LocalBehavior::EndDt6 { table },
        _ => return None,
    };
    Some(RouteAction::Seg6Local { behavior, dev })
}
