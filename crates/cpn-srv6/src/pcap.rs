//! Classic libpcap capture files (the format `tcpdump -w` writes): a 24-byte file header,
//! then records of a 16-byte header and the captured bytes. Both byte orders and both
//! timestamp resolutions (micro- and nanoseconds) are read; pcapng is recognised and refused
//! with a hint, since `tcpdump -r in.pcapng -w out.pcap` converts it.

use thiserror::Error;

/// The link layer of a capture's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// 1: Ethernet II frames.
    Ethernet,
    /// 101 or 229: bare IP packets (229 is IPv6 only).
    Raw,
    /// 113: Linux "cooked" capture (`tcpdump -i any`), a 16-byte pseudo-header.
    LinuxSll,
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Seconds since the epoch.
    pub seconds: u32,
    /// The fraction of the second in nanoseconds.
    pub nanos: u32,
    /// The packet's length on the wire; `data` is shorter when the capture cut it.
    pub original_len: u32,
    pub data: Vec<u8>,
}

/// A capture file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub link: LinkType,
    pub records: Vec<Record>,
}

/// Why bytes are not a capture we read. Offsets are from the start of the file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcapError {
    #[error("not a pcap file: {0} bytes, the file header needs 24")]
    Short(usize),
    #[error("a pcapng file; convert it with `tcpdump -r IN -w OUT.pcap`")]
    Pcapng,
    #[error("not a pcap file: magic number {0:#010x}")]
    Magic(u32),
    #[error("link type {0} is not read (Ethernet 1, raw IP 101/229 and Linux cooked 113 are)")]
    Link(u32),
    #[error("record {record} at byte {offset}: the record header is cut after {left} of 16 bytes")]
    RecordHeader {
        record: usize,
        offset: usize,
        left: usize,
    },
    #[error("record {record} at byte {offset}: says {declared} captured bytes, {left} in the file")]
    RecordData {
        record: usize,
        offset: usize,
        declared: u32,
        left: usize,
    },
    #[error(
        "record {record} at byte {offset}: {declared} captured bytes exceed the 262144 a record may hold"
    )]
    RecordSize {
        record: usize,
        offset: usize,
        declared: u32,
    },
}

/// The most a record may hold: tcpdump's largest snapshot length.
const MAX_RECORD: u32 = 262_144;

impl Capture {
    /// Reads a whole capture file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Capture, PcapError> {
        let Some(header) = bytes.get(..24) else {
            return Err(PcapError::Short(bytes.len()));
        };
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (big_endian, nanos) = match magic {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            0x0a0d_0d0a => return Err(PcapError::Pcapng),
            other => return Err(PcapError::Magic(other)),
        };
        let word = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        // The link type's low 16 bits; the high bits may carry FCS information.
        let link = match word(&header[20..24]) & 0xffff {
            1 => LinkType::Ethernet,
            101 | 229 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            other => return Err(PcapError::Link(other)),
        };
        let mut records = Vec::new();
        let mut offset = 24;
        while offset < bytes.len() {
            let record = records.len() + 1;
            let Some(head) = bytes.get(offset..offset + 16) else {
                return Err(PcapError::RecordHeader {
                    record,
                    offset,
                    left: bytes.len() - offset,
                });
            };
            let (seconds, fraction) = (word(&head[0..4]), word(&head[4..8]));
            let (declared, original_len) = (word(&head[8..12]), word(&head[12..16]));
            if declared > MAX_RECORD {
                return Err(PcapError::RecordSize {
                    record,
                    offset,
                    declared,
                });
            }
            let start = offset + 16;
            let Some(data) = bytes.get(start..start + declared as usize) else {
                return Err(PcapError::RecordData {
                    record,
                    offset,
                    declared,
                    left: bytes.len() - start,
                });
            };
            records.push(Record {
                seconds,
                nanos: if nanos {
                    fraction
                } else {
                    fraction.saturating_mul(1000)
                },
                original_len,
                data: data.to_vec(),
            });
            offset = start + declared as usize;
        }
        Ok(Capture { link, records })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(magic: [u8; 4], link: u32, records: &[&[u8]]) -> Vec<u8> {
        let mut out = magic.to_vec();
        out.extend_from_slice(&[2, 0, 4, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&link.to_le_bytes());
        for r in records {
            out.extend_from_slice(&7u32.to_le_bytes());
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&(r.len() as u32).to_le_bytes());
            out.extend_from_slice(&(r.len() as u32 + 3).to_le_bytes());
            out.extend_from_slice(r);
        }
        out
    }

    #[test]
    fn records_are_read_in_order() {
        let bytes = file([0xd4, 0xc3, 0xb2, 0xa1], 1, &[b"abc", b"", b"hello"]);
        let c = Capture::parse(&bytes).expect("parses");
        assert_eq!(c.link, LinkType::Ethernet);
        assert_eq!(c.records.len(), 3);
        assert_eq!(c.records[2].data, b"hello");
        assert_eq!(
            (
                c.records[0].seconds,
                c.records[0].nanos,
                c.records[0].original_len
            ),
            (7, 5000, 6)
        );
    }

    #[test]
    fn cut_files_name_the_record() {
        let bytes = file([0xd4, 0xc3, 0xb2, 0xa1], 1, &[b"abc", b"hello"]);
        assert_eq!(
            Capture::parse(&bytes[..bytes.len() - 1]),
            Err(PcapError::RecordData {
                record: 2,
                offset: 43,
                declared: 5,
                left: 4
            })
        );
        assert_eq!(
            Capture::parse(&bytes[..30]),
            Err(PcapError::RecordHeader {
                record: 1,
                offset: 24,
                left: 6
            })
        );
        assert_eq!(Capture::parse(&bytes[..10]), Err(PcapError::Short(10)));
        assert_eq!(
            Capture::parse(&file([0x0a, 0x0d, 0x0d, 0x0a], 1, &[])),
            Err(PcapError::Pcapng)
        );
        assert_eq!(
            Capture::parse(&file([0xd4, 0xc3, 0xb2, 0xa1], 105, &[])),
            Err(PcapError::Link(105))
        );
    }
}
