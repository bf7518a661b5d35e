//! SRv6 for cpn (issue 9): the Segment Routing Header codec of RFC 8754 (`srh`), a reader of
//! classic libpcap captures (`pcap`) and a walk through a captured packet's headers that
//! finds every routing header in it, also inside an SRv6 encapsulation (`packet`).
//!
//! Everything here is a pure function of bytes: it never does I/O (the caller reads the
//! file) and never panics on input; every length a header states is checked against the
//! bytes that are there, and a failure names the field and the offset.

pub mod packet;
pub mod pcap;
pub mod srh;

pub use packet::{Found, RoutingHeader, routing_headers};
pub use packet::{PacketError, Problem};
pub use pcap::{Capture, LinkType, PcapError, Record};
pub use srh::{EncodeError, Srh, SrhError, SrhJson, Tlv, TlvJson};
