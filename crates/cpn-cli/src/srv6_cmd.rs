//! `cpn srv6`: the SRv6 data plane's tools. `decode` prints every Segment Routing Header of
//! a packet capture (RFC 8754), as tcpdump -v would, or as JSON.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cpn_srv6::{Capture, RoutingHeader, SrhJson, routing_headers};
use serde::Serialize;

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum Srv6Command {
    /// Print every routing header of a pcap capture: SRHs field by field, other routing
    /// types named. A malformed or truncated SRH is an error naming the packet and byte.
    Decode {
        /// A classic libpcap file (Ethernet, raw IP or Linux cooked link types).
        file: PathBuf,
        /// One JSON array with an object per SRH: `segments` in Segment List order (index 0
        /// first) as IPv6 text, `segments_left`, `last_entry`, `flags`, `tag`, `tlvs`.
        #[arg(long)]
        json: bool,
    },
}

/// One SRH in the JSON output: where it was, then its fields.
#[derive(Debug, Serialize)]
struct Decoded {
    /// The packet's number in the capture, from 1 as tcpdump counts.
    packet: usize,
    /// The SRH's first byte in the packet.
    offset: usize,
    source: String,
    destination: String,
    #[serde(flatten)]
    srh: SrhJson,
}

pub(crate) fn run(command: Srv6Command) -> Outcome {
    match command {
        Srv6Command::Decode { file, json } => decode(&file, json),
    }
}

fn decode(file: &PathBuf, json: bool) -> Outcome {
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(Failure::BadInput)?;
    let capture =
        Capture::parse(&bytes).map_err(|e| Failure::bad(format!("{}: {e}", file.display())))?;
    let mut srhs = Vec::new();
    let mut others = 0;
    for (i, record) in capture.records.iter().enumerate() {
        let packet = i + 1;
        let found = routing_headers(capture.link, &record.data)
            .map_err(|e| Failure::bad(format!("{}: packet {packet}: {e}", file.display())))?;
        for f in found {
            if !json {
                let note = match f.header {
                    RoutingHeader::Srh(_) => "",
                    _ => " (not an SRH)",
                };
                println!(
                    "packet {packet} byte {}: {} > {}: {}{note}",
                    f.offset, f.source, f.destination, f.header
                );
            }
            match f.header {
                RoutingHeader::Srh(srh) => srhs.push(Decoded {
                    packet,
                    offset: f.offset,
                    source: f.source.to_string(),
                    destination: f.destination.to_string(),
                    srh: srh.to_json(),
                }),
                _ => others += 1,
            }
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&srhs)
            .context("cannot write the JSON")
            .map_err(Failure::Internal)?;
        println!("{text}");
    } else {
        println!(
            "{} SRH(s) and {others} other routing header(s) in {} packet(s)",
            srhs.len(),
            capture.records.len()
        );
    }
    Ok(())
}
