//! The delay of steered flows in the emulation, by STAMP probes (RFC 8762, [`crate::stamp`]).
//!
//! A flow's probes leave its headend's client namespace for the address its site answers on
//! (the service's anycast address, or the raw-demand one), so the headend steers them like
//! the flow's own packets over its segment list; the site reflects them and the answers come
//! back by plain IPv6 routing. [`PathProber`] keeps one sender socket per client namespace
//! and one reflector (a thread) per site and address, made when first needed and stopped when
//! the prober is dropped.
//!
//! Every namespace reads the same kernel clock, so the one-way figures are meaningful. The
//! emulated links add no propagation delay: what is measured is the namespaces' forwarding
//! time, tens of microseconds.

use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::DataplaneError;
use crate::emu::in_netns;
use crate::stamp::{self, STAMP_PORT, Sample};

/// A flow's delay: the medians of the probes that were answered, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PathDelay {
    pub sent: u32,
    pub answered: u32,
    pub round_trip_ns: u64,
    /// `None` when the clocks disagreed (a negative median), which one clock never does.
    pub forward_ns: Option<u64>,
    pub backward_ns: Option<u64>,
}

impl PathDelay {
    /// The medians of `samples`, of `sent` probes; `None` when none was answered.
    pub fn of(sent: u32, samples: &[Sample]) -> Option<PathDelay> {
        if samples.is_empty() {
            return None;
        }
        let median = |f: fn(&Sample) -> i64| {
            let mut v: Vec<i64> = samples.iter().map(f).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        let non_negative = |ns: i64| u64::try_from(ns).ok();
        Some(PathDelay {
            sent,
            answered: samples.len() as u32,
            round_trip_ns: non_negative(median(|s| s.round_trip_ns)).unwrap_or(0),
            forward_ns: non_negative(median(|s| s.forward_ns)),
            backward_ns: non_negative(median(|s| s.backward_ns)),
        })
    }
}

#[derive(Debug)]
struct Reflector {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<u64, stamp::StampError>>>,
}

/// Probes paths in the emulation: sender sockets by client namespace, reflectors by site
/// namespace and address.
#[derive(Debug, Default)]
pub struct PathProber {
    senders: BTreeMap<String, UdpSocket>,
    reflectors: BTreeMap<(String, Ipv6Addr), Reflector>,
}

fn bind(ns: &str, addr: Ipv6Addr, port: u16) -> Result<UdpSocket, DataplaneError> {
    in_netns(ns, || {
        UdpSocket::bind(SocketAddrV6::new(addr, port, 0, 0)).map_err(|e| DataplaneError::Probe {
            ns: ns.to_string(),
            reason: format!("bind [{addr}]:{port}: {e}"),
        })
    })
}

impl PathProber {
    pub fn new() -> PathProber {
        PathProber::default()
    }

    /// Makes sure `site_ns` reflects STAMP probes sent to `to`.
    fn reflector(&mut self, site_ns: &str, to: Ipv6Addr) -> Result<(), DataplaneError> {
        let key = (site_ns.to_string(), to);
        if let Some(r) = self.reflectors.get(&key)
            && r.thread.as_ref().is_some_and(|t| !t.is_finished())
        {
            return Ok(());
        }
        let socket = bind(site_ns, to, STAMP_PORT)?;
        // The reflector checks its stop flag at least this often.
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| DataplaneError::Probe {
                ns: site_ns.to_string(),
                reason: format!("read timeout: {e}"),
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("cpn-stamp-reflector".into())
                .spawn(move || stamp::reflect(&socket, &stop))
                .map_err(|e| DataplaneError::Probe {
                    ns: site_ns.to_string(),
                    reason: format!("reflector thread: {e}"),
                })?
        };
        self.reflectors.insert(
            key,
            Reflector {
                stop,
                thread: Some(thread),
            },
        );
        Ok(())
    }

    /// Sends `count` probes from `client` in `client_ns` to `to`, reflected in `site_ns`, one
    /// at a time, each given up after `timeout`; `None` when none was answered.
    pub fn measure(
        &mut self,
        client_ns: &str,
        client: Ipv6Addr,
        site_ns: &str,
        to: Ipv6Addr,
        count: u32,
        timeout: Duration,
    ) -> Result<Option<PathDelay>, DataplaneError> {
        self.reflector(site_ns, to)?;
        if !self.senders.contains_key(client_ns) {
            let socket = bind(client_ns, client, 0)?;
            self.senders.insert(client_ns.to_string(), socket);
        }
        let socket = &self.senders[client_ns];
        let probe_error = |e: stamp::StampError| DataplaneError::Probe {
            ns: client_ns.to_string(),
            reason: e.to_string(),
        };
        // Answers that came after an earlier round gave up on them would be taken for this
        // round's (sequence numbers start again at 0): drop them first.
        socket
            .set_nonblocking(true)
            .and_then(|()| {
                let mut buf = [0u8; 64];
                while socket.recv(&mut buf).is_ok() {}
                socket.set_nonblocking(false)
            })
            .map_err(|e| DataplaneError::Probe {
                ns: client_ns.to_string(),
                reason: format!("drain: {e}"),
            })?;
        let to = SocketAddr::V6(SocketAddrV6::new(to, STAMP_PORT, 0, 0));
        let samples = stamp::probe(socket, to, count, timeout).map_err(probe_error)?;
        Ok(PathDelay::of(count, &samples))
    }
}

impl Drop for PathProber {
    fn drop(&mut self) {
        for r in self.reflectors.values() {
            r.stop.store(true, Ordering::Relaxed);
        }
        for r in self.reflectors.values_mut() {
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u32, forward_ns: i64, backward_ns: i64) -> Sample {
        Sample {
            seq,
            forward_ns,
            backward_ns,
            round_trip_ns: forward_ns + backward_ns,
        }
    }

    #[test]
    fn a_path_delay_is_the_median_of_the_answered_probes() {
        assert_eq!(PathDelay::of(5, &[]), None);
        let samples = [
            sample(0, 20_000, 17_000),
            sample(1, 90_000, 16_000),
            sample(3, 19_000, 18_000),
        ];
        assert_eq!(
            PathDelay::of(5, &samples),
            Some(PathDelay {
                sent: 5,
                answered: 3,
                round_trip_ns: 37_000,
                forward_ns: Some(20_000),
                backward_ns: Some(17_000),
            })
        );
        // Clocks that disagree give no one-way figure.
        let skewed = [sample(0, -5_000, 40_000)];
        let d = PathDelay::of(1, &skewed).expect("answered");
        assert_eq!((d.round_trip_ns, d.forward_ns), (35_000, None));
        assert_eq!(d.backward_ns, Some(40_000));
    }
}
