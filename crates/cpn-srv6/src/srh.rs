//! The Segment Routing Header (RFC 8754 §2): a routing header of type 4 that carries the
//! segment list of an SRv6 path.
//!
//! ```text
//!  0                   1                   2                   3
//! | Next Header   |  Hdr Ext Len  | Routing Type=4| Segments Left |
//! |  Last Entry   |     Flags     |              Tag              |
//! |            Segment List[0] (128 bits) ... Segment List[n]     |
//! |            optional TLVs (Pad1, PadN, HMAC, others)           |
//! ```
//!
//! The Segment List is in reverse order of the path: `[0]` is the last segment, and the
//! active segment is `[Segments Left]`. [`Srh::segments`] keeps the wire order, index 0 first.
//!
//! Decoding is strict, as Linux's `seg6_validate_srh` and tcpdump's `rt6` printer are: the
//! header must fit the bytes there, the segments must fit the header, Segments Left may not
//! exceed Last Entry + 1 (RFC 8754 §4.3.1.1, S09), and the TLVs must fill the rest exactly.
//! Encoding writes the same bytes back: `encode(decode(b)) == b` for every `b` that decodes.

use std::fmt;
use std::net::Ipv6Addr;

use serde::Serialize;
use thiserror::Error;

/// The routing type of a Segment Routing Header.
pub const ROUTING_TYPE: u8 = 4;
/// The fixed part: next header, length, type, segments left, last entry, flags, tag.
const FIXED: usize = 8;
/// Bytes per segment.
const SEGMENT: usize = 16;

/// A TLV of the SRH (RFC 8754 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tlv {
    /// Type 0: one byte of padding, with no length.
    Pad1,
    /// Type 4: padding, its bytes kept as they came (they should be zero and are ignored).
    PadN(Vec<u8>),
    /// Type 5 (RFC 8754 §2.1.2): the D bit, 15 reserved bits, a key id and the HMAC. Its
    /// Length counts the HMAC field alone, as tcpdump reads it: the TLV takes 8 + Length bytes.
    Hmac {
        d: bool,
        /// The 15 reserved bits, kept so that the bytes round-trip.
        reserved: u16,
        key_id: u32,
        hmac: Vec<u8>,
    },
    /// Any other type, with its value.
    Other { kind: u8, value: Vec<u8> },
}

impl Tlv {
    /// The type octet.
    pub fn kind(&self) -> u8 {
        match self {
            Tlv::Pad1 => 0,
            Tlv::PadN(_) => 4,
            Tlv::Hmac { .. } => 5,
            Tlv::Other { kind, .. } => *kind,
        }
    }

    /// The bytes it takes on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            Tlv::Pad1 => 1,
            Tlv::PadN(pad) => 2 + pad.len(),
            Tlv::Hmac { hmac, .. } => 8 + hmac.len(),
            Tlv::Other { value, .. } => 2 + value.len(),
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let length = |n: usize| u8::try_from(n).map_err(|_| EncodeError::TlvTooLong(n));
        out.push(self.kind());
        match self {
            Tlv::Pad1 => {}
            Tlv::PadN(pad) => {
                out.push(length(pad.len())?);
                out.extend_from_slice(pad);
            }
            Tlv::Hmac {
                d,
                reserved,
                key_id,
                hmac,
            } => {
                out.push(length(hmac.len())?);
                let first = (u16::from(*d) << 15) | (reserved & 0x7fff);
                out.extend_from_slice(&first.to_be_bytes());
                out.extend_from_slice(&key_id.to_be_bytes());
                out.extend_from_slice(hmac);
            }
            Tlv::Other { value, .. } => {
                out.push(length(value.len())?);
                out.extend_from_slice(value);
            }
        }
        Ok(())
    }
}

/// A decoded Segment Routing Header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srh {
    /// The protocol after the SRH: 41 for an encapsulated IPv6 packet, 143 for Ethernet.
    pub next_header: u8,
    pub segments_left: u8,
    pub flags: u8,
    pub tag: u16,
    /// The Segment List in wire order: `[0]` is the last segment of the path.
    pub segments: Vec<Ipv6Addr>,
    pub tlvs: Vec<Tlv>,
}

/// Why bytes are not a valid SRH. Offsets count from the first byte of the header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SrhError {
    #[error("truncated: the fixed part of a routing header needs 8 bytes, {0} captured")]
    Short(usize),
    #[error("routing type {0}, not a Segment Routing Header (type 4)")]
    NotSrh(u8),
    #[error("truncated: Hdr Ext Len {hdr_ext_len} says {declared} bytes, {captured} captured")]
    Truncated {
        hdr_ext_len: u8,
        declared: usize,
        captured: usize,
    },
    #[error("Last Entry {last_entry} needs {needed} bytes of segments, the header holds {room}")]
    LastEntry {
        last_entry: u8,
        needed: usize,
        room: usize,
    },
    #[error("Segments Left {segments_left} exceeds Last Entry + 1 ({})", u16::from(*last_entry) + 1)]
    SegmentsLeft { segments_left: u8, last_entry: u8 },
    #[error("TLV type {kind} at byte {offset} needs {needed} bytes, {left} left in the header")]
    TlvOverrun {
        offset: usize,
        kind: u8,
        needed: usize,
        left: usize,
    },
    #[error("PadN at byte {offset} has length {length}, at most 5 allowed (RFC 8754 §2.1.1.2)")]
    PadNLength { offset: usize, length: u8 },
    #[error(
        "HMAC TLV at byte {offset} has an HMAC of {length} bytes, a multiple of 8 up to 32 expected (RFC 8754 §2.1.2)"
    )]
    HmacLength { offset: usize, length: u8 },
}

/// Why an [`Srh`] cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("{0} segments: between 1 and 256 fit Last Entry")]
    Segments(usize),
    #[error("a TLV value of {0} bytes does not fit its length octet")]
    TlvTooLong(usize),
    #[error(
        "the header would be {0} bytes: a multiple of 8 up to 2048 fits Hdr Ext Len (pad the TLVs)"
    )]
    Size(usize),
}

impl Srh {
    /// A header with these segments (wire order) and nothing else: Segments Left points at
    /// the first segment of the path, `[n - 1]`.
    pub fn new(next_header: u8, segments: Vec<Ipv6Addr>) -> Srh {
        let segments_left = u8::try_from(segments.len().saturating_sub(1)).unwrap_or(u8::MAX);
        Srh {
            next_header,
            segments_left,
            flags: 0,
            tag: 0,
            segments,
            tlvs: Vec::new(),
        }
    }

    /// Last Entry: the index of the last element of the Segment List.
    pub fn last_entry(&self) -> u8 {
        u8::try_from(self.segments.len().saturating_sub(1)).unwrap_or(u8::MAX)
    }

    /// The segment being visited: `[Segments Left]`, which the packet's destination holds;
    /// `None` when Segments Left is Last Entry + 1 (a reduced SRH's first segment is only in
    /// the destination address).
    pub fn active(&self) -> Option<Ipv6Addr> {
        self.segments.get(usize::from(self.segments_left)).copied()
    }

    /// The segments in the order the packet visits them: `[n - 1]` first, `[0]` last.
    pub fn path(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.segments.iter().rev().copied()
    }

    /// The header's length on the wire.
    pub fn wire_len(&self) -> usize {
        FIXED + SEGMENT * self.segments.len() + self.tlvs.iter().map(Tlv::wire_len).sum::<usize>()
    }

    /// Appends the padding that makes the header a multiple of 8 bytes: Pad1 for one byte,
    /// PadN for two to seven.
    pub fn pad(&mut self) {
        match (8 - self.wire_len() % 8) % 8 {
            0 => {}
            1 => self.tlvs.push(Tlv::Pad1),
            n => self.tlvs.push(Tlv::PadN(vec![0; n - 2])),
        }
    }

    /// Decodes the SRH at the start of `bytes`; returns it with the bytes it took
    /// (`8 * (Hdr Ext Len + 1)`). What follows the header is not read.
    pub fn decode(bytes: &[u8]) -> Result<(Srh, usize), SrhError> {
        let Some(fixed) = bytes.get(..FIXED) else {
            return Err(SrhError::Short(bytes.len()));
        };
        let [
            next_header,
            hdr_ext_len,
            routing_type,
            segments_left,
            last_entry,
            flags,
            t0,
            t1,
        ] = *fixed
        else {
            return Err(SrhError::Short(bytes.len()));
        };
        if routing_type != ROUTING_TYPE {
            return Err(SrhError::NotSrh(routing_type));
        }
        let declared = 8 * (usize::from(hdr_ext_len) + 1);
        let Some(header) = bytes.get(..declared) else {
            return Err(SrhError::Truncated {
                hdr_ext_len,
                declared,
                captured: bytes.len(),
            });
        };
        let count = usize::from(last_entry) + 1;
        let tlv_start = FIXED + SEGMENT * count;
        if tlv_start > declared {
            return Err(SrhError::LastEntry {
                last_entry,
                needed: SEGMENT * count,
                room: declared - FIXED,
            });
        }
        if usize::from(segments_left) > count {
            return Err(SrhError::SegmentsLeft {
                segments_left,
                last_entry,
            });
        }
        let segments = header[FIXED..tlv_start]
            .chunks_exact(SEGMENT)
            .map(|s| {
                let mut octets = [0u8; SEGMENT];
                octets.copy_from_slice(s);
                Ipv6Addr::from(octets)
            })
            .collect();
        let tlvs = decode_tlvs(header, tlv_start)?;
        Ok((
            Srh {
                next_header,
                segments_left,
                flags,
                tag: u16::from_be_bytes([t0, t1]),
                segments,
                tlvs,
            },
            declared,
        ))
    }

    /// The header's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let n = self.segments.len();
        if n == 0 || n > 256 {
            return Err(EncodeError::Segments(n));
        }
        let size = self.wire_len();
        if !size.is_multiple_of(8) || size > 2048 {
            return Err(EncodeError::Size(size));
        }
        let hdr_ext_len = u8::try_from(size / 8 - 1).map_err(|_| EncodeError::Size(size))?;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&[
            self.next_header,
            hdr_ext_len,
            ROUTING_TYPE,
            self.segments_left,
            self.last_entry(),
            self.flags,
        ]);
        out.extend_from_slice(&self.tag.to_be_bytes());
        for s in &self.segments {
            out.extend_from_slice(&s.octets());
        }
        for tlv in &self.tlvs {
            tlv.encode_into(&mut out)?;
        }
        Ok(out)
    }
}

/// The TLVs of `header` from `offset` to its end, which they must fill exactly.
fn decode_tlvs(header: &[u8], mut offset: usize) -> Result<Vec<Tlv>, SrhError> {
    let mut tlvs = Vec::new();
    while offset < header.len() {
        let kind = header[offset];
        let left = header.len() - offset;
        if kind == 0 {
            tlvs.push(Tlv::Pad1);
            offset += 1;
            continue;
        }
        let overrun = |needed| SrhError::TlvOverrun {
            offset,
            kind,
            needed,
            left,
        };
        let Some(&length) = header.get(offset + 1) else {
            return Err(overrun(2));
        };
        let value_len = usize::from(length);
        let (fixed, needed) = match kind {
            5 => (6, 8 + value_len),
            _ => (0, 2 + value_len),
        };
        let Some(tlv) = header.get(offset..offset + needed) else {
            return Err(overrun(needed));
        };
        let value = &tlv[2 + fixed..];
        tlvs.push(match kind {
            4 => {
                if length > 5 {
                    return Err(SrhError::PadNLength { offset, length });
                }
                Tlv::PadN(value.to_vec())
            }
            5 => {
                if !value_len.is_multiple_of(8) || value_len > 32 {
                    return Err(SrhError::HmacLength { offset, length });
                }
                let first = u16::from_be_bytes([tlv[2], tlv[3]]);
                Tlv::Hmac {
                    d: first & 0x8000 != 0,
                    reserved: first & 0x7fff,
                    key_id: u32::from_be_bytes([tlv[4], tlv[5], tlv[6], tlv[7]]),
                    hmac: value.to_vec(),
                }
            }
            _ => Tlv::Other {
                kind,
                value: value.to_vec(),
            },
        });
        offset += needed;
    }
    Ok(tlvs)
}

/// tcpdump's verbose decode of the header (`tcpdump -v`), so that a decode can be set beside
/// tcpdump's line by line: `RT6 (len=4, type=4, segleft=1, last-entry=1, flags=0x0, tag=0,
/// [0]a:b:c:3::d6, [1]a:b:c:2::f1:0)`.
impl fmt::Display for Srh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hdr_ext_len = self.wire_len() / 8 - 1;
        write!(
            f,
            "RT6 (len={hdr_ext_len}, type=4, segleft={}, last-entry={}, flags={:#x}, tag={:x}",
            self.segments_left,
            self.last_entry(),
            self.flags,
            self.tag
        )?;
        for (i, s) in self.segments.iter().enumerate() {
            write!(f, ", [{i}]{s}")?;
        }
        for tlv in &self.tlvs {
            match tlv {
                Tlv::Pad1 => write!(f, ", TLV-type=Pad1(0)")?,
                Tlv::PadN(pad) => write!(f, ", TLV-type=PadN(4), TLV-len={}", pad.len())?,
                Tlv::Hmac {
                    d, key_id, hmac, ..
                } => write!(
                    f,
                    ", TLV-type=HMAC(5), TLV-len={}, D={}, HMAC-key-ID={key_id:#04x}, HMAC=0x{}",
                    hmac.len(),
                    u8::from(*d),
                    hex::encode(hmac)
                )?,
                Tlv::Other { kind, value } => write!(
                    f,
                    ", TLV-type=Unknown({kind}), TLV-len={}, TLV-value=0x{}",
                    value.len(),
                    hex::encode(value)
                )?,
            }
        }
        write!(f, ")")
    }
}

/// The JSON form of an SRH (`cpn srv6 decode --json`): the segments as IPv6 text in
/// Segment List order, index 0 first.
#[derive(Debug, Clone, Serialize)]
pub struct SrhJson {
    pub next_header: u8,
    pub segments: Vec<String>,
    pub segments_left: u8,
    pub last_entry: u8,
    pub flags: u8,
    pub tag: u16,
    pub tlvs: Vec<TlvJson>,
}

/// A TLV in JSON: `{"type": "pad1"}`, `{"type": "padn", "length": 5}`, `{"type": "hmac",
/// "d": true, "key_id": 1410509616, "hmac": "00..aa"}` or `{"type": 7, "value": "..."}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TlvJson {
    Pad1,
    Padn {
        length: usize,
    },
    Hmac {
        d: bool,
        key_id: u32,
        hmac: String,
    },
    #[serde(rename = "other")]
    Other {
        kind: u8,
        value: String,
    },
}

impl Srh {
    /// The JSON form.
    pub fn to_json(&self) -> SrhJson {
        SrhJson {
            next_header: self.next_header,
            segments: self.segments.iter().map(ToString::to_string).collect(),
            segments_left: self.segments_left,
            last_entry: self.last_entry(),
            flags: self.flags,
            tag: self.tag,
            tlvs: self
                .tlvs
                .iter()
                .map(|t| match t {
                    Tlv::Pad1 => TlvJson::Pad1,
                    Tlv::PadN(pad) => TlvJson::Padn { length: pad.len() },
                    Tlv::Hmac {
                        d, key_id, hmac, ..
                    } => TlvJson::Hmac {
                        d: *d,
                        key_id: *key_id,
                        hmac: hex::encode(hmac),
                    },
                    Tlv::Other { kind, value } => TlvJson::Other {
                        kind: *kind,
                        value: hex::encode(value),
                    },
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().expect("an address")
    }

    #[test]
    fn a_two_segment_header_round_trips() {
        let srh = Srh::new(41, vec![addr("a:b:c:3::d6"), addr("a:b:c:2::f1:0")]);
        let bytes = srh.encode().expect("encodes");
        assert_eq!(bytes.len(), 40);
        assert_eq!(&bytes[..8], &[41, 4, 4, 1, 1, 0, 0, 0]);
        assert_eq!(Srh::decode(&bytes), Ok((srh.clone(), 40)));
        assert_eq!(srh.active(), Some(addr("a:b:c:2::f1:0")));
        assert_eq!(
            srh.path().collect::<Vec<_>>(),
            vec![addr("a:b:c:2::f1:0"), addr("a:b:c:3::d6")]
        );
    }

    #[test]
    fn padding_aligns_every_size() {
        for extra in 0..8 {
            let mut srh = Srh::new(59, vec![addr("::1")]);
            srh.tlvs.push(Tlv::Other {
                kind: 7,
                value: vec![9; extra],
            });
            srh.pad();
            let bytes = srh.encode().expect("aligned");
            assert_eq!(bytes.len() % 8, 0);
            assert_eq!(Srh::decode(&bytes).expect("decodes").0, srh);
        }
    }

    #[test]
    fn bad_headers_are_named() {
        let good = Srh::new(41, vec![addr("::1"), addr("::2")])
            .encode()
            .expect("encodes");
        assert_eq!(Srh::decode(&good[..5]), Err(SrhError::Short(5)));
        assert_eq!(
            Srh::decode(&good[..39]),
            Err(SrhError::Truncated {
                hdr_ext_len: 4,
                declared: 40,
                captured: 39
            })
        );
        let mut type0 = good.clone();
        type0[2] = 0;
        assert_eq!(Srh::decode(&type0), Err(SrhError::NotSrh(0)));
        let mut last = good.clone();
        last[4] = 2;
        assert!(matches!(
            Srh::decode(&last),
            Err(SrhError::LastEntry { last_entry: 2, .. })
        ));
        let mut left = good.clone();
        left[3] = 3;
        assert!(matches!(
            Srh::decode(&left),
            Err(SrhError::SegmentsLeft {
                segments_left: 3,
                ..
            })
        ));
        // Segments Left = Last Entry + 1 is a reduced SRH: valid, with no active segment in it.
        left[3] = 2;
        assert_eq!(Srh::decode(&left).expect("valid").0.active(), None);
        // One segment less: 16 bytes of TLV space that must parse.
        let mut tlv = good.clone();
        tlv[4] = 0;
        tlv[24] = 4;
        tlv[25] = 14;
        assert_eq!(
            Srh::decode(&tlv),
            Err(SrhError::PadNLength {
                offset: 24,
                length: 14
            })
        );
        tlv[24] = 7;
        tlv[25] = 15;
        assert_eq!(
            Srh::decode(&tlv),
            Err(SrhError::TlvOverrun {
                offset: 24,
                kind: 7,
                needed: 17,
                left: 16
            })
        );
        tlv[25] = 14;
        assert!(Srh::decode(&tlv).is_ok());
    }

    #[test]
    fn encode_refuses_what_does_not_fit() {
        assert_eq!(Srh::new(41, vec![]).encode(), Err(EncodeError::Segments(0)));
        let mut odd = Srh::new(41, vec![addr("::1")]);
        odd.tlvs.push(Tlv::Pad1);
        assert_eq!(odd.encode(), Err(EncodeError::Size(25)));
        assert_eq!(
            Srh::new(41, vec![addr("::1"); 128]).encode(),
            Err(EncodeError::Size(2056))
        );
    }
}
