//! Delay by timestamped probes: STAMP, the Simple Two-way Active Measurement Protocol
//! (RFC 8762), in its unauthenticated mode, over UDP.
//!
//! A Session-Sender sends test packets (sequence number, transmit timestamp `T1`, error
//! estimate) to a Session-Reflector, which answers each with its own sequence number, its
//! receive timestamp `T2` and transmit timestamp `T3`, and the sender's fields copied back;
//! the sender notes `T4` on receipt. Forward delay is `T2 - T1`, backward `T4 - T3`, and the
//! round trip without the reflector's time `(T4 - T1) - (T3 - T2)`. One-way figures need
//! synchronised clocks: in the emulation every namespace reads the same kernel clock.
//!
//! Probes sent from a client to a service address are steered by the headend like any other
//! packet of the flow, so they travel the flow's segment list to the site that reflects them.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use thiserror::Error;

/// The well-known STAMP port (RFC 8762 §4.1).
pub const STAMP_PORT: u16 = 862;

/// Both test packets of the unauthenticated mode are 44 bytes long.
pub const PACKET_LEN: usize = 44;

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A timestamp in the NTP 64-bit format: seconds since 1900 and a binary fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NtpTime(pub u64);

impl NtpTime {
    pub fn now() -> NtpTime {
        NtpTime::from_system(SystemTime::now())
    }

    pub fn from_system(t: SystemTime) -> NtpTime {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = since.as_secs().wrapping_add(NTP_UNIX_OFFSET) & 0xffff_ffff;
        let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime((secs << 32) | frac)
    }

    /// `self - earlier` in nanoseconds, negative when `earlier` is later (clocks disagree).
    pub fn nanos_since(self, earlier: NtpTime) -> i64 {
        let diff = self.0.wrapping_sub(earlier.0) as i64;
        // 2^32 units per second: ns = diff * 1e9 / 2^32, in 128 bits.
        ((i128::from(diff) * 1_000_000_000) >> 32) as i64
    }
}

/// The Error Estimate field (RFC 4656 §4.1.2, as STAMP uses it): whether the clock is
/// synchronised (S), the timestamp format (Z: 0 NTP, 1 PTP), and the error as
/// `multiplier * 2^-32 * 2^scale` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorEstimate {
    pub synchronized: bool,
    pub ptp: bool,
    pub scale: u8,
    pub multiplier: u8,
}

impl ErrorEstimate {
    /// A synchronised NTP-format clock good to about a microsecond (2^-20 s).
    pub const LOCAL_CLOCK: ErrorEstimate = ErrorEstimate {
        synchronized: true,
        ptp: false,
        scale: 12,
        multiplier: 1,
    };

    fn encode(self) -> [u8; 2] {
        [
            (u8::from(self.synchronized) << 7) | (u8::from(self.ptp) << 6) | (self.scale & 0x3f),
            self.multiplier,
        ]
    }

    fn decode(b: [u8; 2]) -> ErrorEstimate {
        ErrorEstimate {
            synchronized: b[0] & 0x80 != 0,
            ptp: b[0] & 0x40 != 0,
            scale: b[0] & 0x3f,
            multiplier: b[1],
        }
    }
}

/// A Session-Sender test packet (RFC 8762 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SenderPacket {
    pub seq: u32,
    pub timestamp: NtpTime,
    pub error: ErrorEstimate,
}

/// A Session-Reflector test packet (RFC 8762 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReflectorPacket {
    pub seq: u32,
    /// When the reflector sent it (`T3`).
    pub timestamp: NtpTime,
    pub error: ErrorEstimate,
    /// When the reflector received the sender's packet (`T2`).
    pub receive_timestamp: NtpTime,
    pub sender_seq: u32,
    /// The sender's transmit timestamp (`T1`).
    pub sender_timestamp: NtpTime,
    pub sender_error: ErrorEstimate,
    /// The hop limit the sender's packet arrived with (0 when not known).
    pub sender_ttl: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StampError {
    #[error("a STAMP test packet is {PACKET_LEN} bytes, this one {len}")]
    Length { len: usize },
    #[error("{what}: {message}")]
    Io { what: &'static str, message: String },
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    (u64::from(u32_at(b, at)) << 32) | u64::from(u32_at(b, at + 4))
}

impl SenderPacket {
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut b = [0u8; PACKET_LEN];
        b[0..4].copy_from_slice(&self.seq.to_be_bytes());
        b[4..12].copy_from_slice(&self.timestamp.0.to_be_bytes());
        b[12..14].copy_from_slice(&self.error.encode());
        b
    }

    /// Reads a sender packet; a longer one (with padding, §4.2.1) is accepted, a shorter one
    /// is an error. The MBZ bytes are not checked, as the RFC asks of receivers.
    pub fn decode(b: &[u8]) -> Result<SenderPacket, StampError> {
        if b.len() < PACKET_LEN {
            return Err(StampError::Length { len: b.len() });
        }
        Ok(SenderPacket {
            seq: u32_at(b, 0),
            timestamp: NtpTime(u64_at(b, 4)),
            error: ErrorEstimate::decode([b[12], b[13]]),
        })
    }
}

impl ReflectorPacket {
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut b = [0u8; PACKET_LEN];
        b[0..4].copy_from_slice(&self.seq.to_be_bytes());
        b[4..12].copy_from_slice(&self.timestamp.0.to_be_bytes());
        b[12..14].copy_from_slice(&self.error.encode());
        b[16..24].copy_from_slice(&self.receive_timestamp.0.to_be_bytes());
        b[24..28].copy_from_slice(&self.sender_seq.to_be_bytes());
        b[28..36].copy_from_slice(&self.sender_timestamp.0.to_be_bytes());
        b[36..38].copy_from_slice(&self.sender_error.encode());
        b[40] = self.sender_ttl;
        b
    }

    pub fn decode(b: &[u8]) -> Result<ReflectorPacket, StampError> {
        if b.len() < PACKET_LEN {
            return Err(StampError::Length { len: b.len() });
        }
        Ok(ReflectorPacket {
            seq: u32_at(b, 0),
            timestamp: NtpTime(u64_at(b, 4)),
            error: ErrorEstimate::decode([b[12], b[13]]),
            receive_timestamp: NtpTime(u64_at(b, 16)),
            sender_seq: u32_at(b, 24),
            sender_timestamp: NtpTime(u64_at(b, 28)),
            sender_error: ErrorEstimate::decode([b[36], b[37]]),
            sender_ttl: b[40],
        })
    }
}

/// Reflects test packets on `socket` until `stop` says so (checked at least every read
/// timeout the socket has); returns how many it reflected. A packet that is not a STAMP
/// test packet is ignored.
pub fn reflect(
    socket: &UdpSocket,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<u64, StampError> {
    let io = |what: &'static str| {
        move |e: std::io::Error| StampError::Io {
            what,
            message: e.to_string(),
        }
    };
    let mut buf = [0u8; 1500];
    let mut seq = 0u32;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(io("receive")(e)),
        };
        let received = NtpTime::now();
        let Ok(probe) = SenderPacket::decode(&buf[..len]) else {
            continue;
        };
        let answer = ReflectorPacket {
            seq,
            timestamp: NtpTime::now(),
            error: ErrorEstimate::LOCAL_CLOCK,
            receive_timestamp: received,
            sender_seq: probe.seq,
            sender_timestamp: probe.timestamp,
            sender_error: probe.error,
            sender_ttl: 0,
        };
        socket.send_to(&answer.encode(), from).map_err(io("send"))?;
        seq = seq.wrapping_add(1);
    }
    Ok(u64::from(seq))
}

/// One probe's delays, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub seq: u32,
    pub forward_ns: i64,
    pub backward_ns: i64,
    /// The round trip less the reflector's own time.
    pub round_trip_ns: i64,
}

/// Sends `count` probes from `socket` to the reflector at `to`, one at a time, waiting up to
/// `timeout` for each answer; returns the answered probes' delays (a lost probe has none).
pub fn probe(
    socket: &UdpSocket,
    to: SocketAddr,
    count: u32,
    timeout: Duration,
) -> Result<Vec<Sample>, StampError> {
    let io = |what: &'static str| {
        move |e: std::io::Error| StampError::Io {
            what,
            message: e.to_string(),
        }
    };
    socket
        .set_read_timeout(Some(timeout))
        .map_err(io("timeout"))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    for seq in 0..count {
        let sent = SenderPacket {
            seq,
            timestamp: NtpTime::now(),
            error: ErrorEstimate::LOCAL_CLOCK,
        };
        socket.send_to(&sent.encode(), to).map_err(io("send"))?;
        // Answers to earlier, late probes are skipped by their sequence number.
        loop {
            let len = match socket.recv(&mut buf) {
                Ok(len) => len,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) => return Err(io("receive")(e)),
            };
            let t4 = NtpTime::now();
            let Ok(r) = ReflectorPacket::decode(&buf[..len]) else {
                continue;
            };
            if r.sender_seq != seq {
                continue;
            }
            let forward = r.receive_timestamp.nanos_since(r.sender_timestamp);
            let backward = t4.nanos_since(r.timestamp);
            let inside = r.timestamp.nanos_since(r.receive_timestamp);
            out.push(Sample {
                seq,
                forward_ns: forward,
                backward_ns: backward,
                round_trip_ns: t4.nanos_since(r.sender_timestamp) - inside,
            });
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_packets_have_the_rfc_layout() {
        let p = SenderPacket {
            seq: 0x0102_0304,
            timestamp: NtpTime(0x1122_3344_5566_7788),
            error: ErrorEstimate {
                synchronized: true,
                ptp: false,
                scale: 12,
                multiplier: 1,
            },
        };
        let b = p.encode();
        let mut want = [0u8; PACKET_LEN];
        want[..14].copy_from_slice(&[
            0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x8c, 0x01,
        ]);
        assert_eq!(b, want);
        assert_eq!(SenderPacket::decode(&b), Ok(p));
        // Padding is allowed, truncation is not.
        let mut padded = b.to_vec();
        padded.extend([0u8; 20]);
        assert_eq!(SenderPacket::decode(&padded), Ok(p));
        assert_eq!(
            SenderPacket::decode(&b[..43]),
            Err(StampError::Length { len: 43 })
        );
    }

    #[test]
    fn reflector_packets_have_the_rfc_layout() {
        let p = ReflectorPacket {
            seq: 7,
            timestamp: NtpTime(0xaaaa_aaaa_0000_0001),
            error: ErrorEstimate::LOCAL_CLOCK,
            receive_timestamp: NtpTime(0xbbbb_bbbb_0000_0002),
            sender_seq: 9,
            sender_timestamp: NtpTime(0xcccc_cccc_0000_0003),
            sender_error: ErrorEstimate {
                synchronized: false,
                ptp: true,
                scale: 0x3f,
                multiplier: 0xff,
            },
            sender_ttl: 64,
        };
        let b = p.encode();
        assert_eq!(&b[0..4], &[0, 0, 0, 7]);
        assert_eq!(&b[14..16], &[0, 0], "MBZ");
        assert_eq!(&b[16..24], &[0xbb, 0xbb, 0xbb, 0xbb, 0, 0, 0, 2]);
        assert_eq!(&b[24..28], &[0, 0, 0, 9]);
        assert_eq!(&b[36..38], &[0x7f, 0xff]);
        assert_eq!(b[40], 64);
        assert_eq!(&b[41..44], &[0, 0, 0], "MBZ");
        assert_eq!(ReflectorPacket::decode(&b), Ok(p));
        for len in 0..PACKET_LEN {
            assert!(ReflectorPacket::decode(&b[..len]).is_err());
            assert!(SenderPacket::decode(&b[..len]).is_err());
        }
    }

    #[test]
    fn ntp_times_subtract_in_nanoseconds() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = NtpTime::from_system(t);
        assert_eq!(a.0 >> 32, 1_700_000_000 + NTP_UNIX_OFFSET);
        let b = NtpTime::from_system(t + Duration::from_micros(1500));
        let d = b.nanos_since(a);
        assert!((1_499_999..=1_500_000).contains(&d), "{d}");
        assert!((a.nanos_since(b) + 1_500_000).abs() <= 1);
        let c = NtpTime::from_system(t + Duration::from_secs(3) + Duration::from_nanos(250));
        assert!((c.nanos_since(a) - 3_000_000_250).abs() <= 1);
    }
}
