//! `cpn srv6 decode` on tcpdump's SRv6 captures (`$CPN_DATA_DIR/srv6-pcaps`): the JSON
//! lists every SRH with its segments in Segment List order; a truncated SRH exits 2 naming
//! the packet, the byte and the length field.

use std::process::{Command, Output};

fn cpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpn"))
        .args(args)
        .output()
        .expect("cpn runs")
}

#[test]
fn decode_json_lists_every_srh() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let file = dir.join("ipv6-srh-tlv-pad1-padn-5.pcap");
    let out = cpn(&["srv6", "decode", "--json", file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!([{
            "packet": 1, "offset": 54,
            "source": "2001:db8:1::1", "destination": "cafe:1::2",
            "next_header": 59,
            "segments": ["cafe:1::2"], "segments_left": 0, "last_entry": 0,
            "flags": 0, "tag": 0,
            "tlvs": [{"type": "pad1"}, {"type": "padn", "length": 5}]
        }])
    );
    // A capture without SRHs gives an empty array, and its text names the type 0 headers.
    let type0 = dir.join("ipv6-routing-header.pcap");
    let out = cpn(&["srv6", "decode", "--json", type0.to_str().expect("utf-8")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let out = cpn(&["srv6", "decode", type0.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("type=0 [Deprecated]").count(), 4, "{text}");
}

#[test]
fn a_truncated_srh_exits_2_and_says_where() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let file = dir.join("ipv6-srh-tlv-pad1-padn-5-trunc.pcap");
    let out = cpn(&["srv6", "decode", "--json", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "packet 1: at byte 54: SRH truncated: Hdr Ext Len 3 says 32 bytes, 31 captured"
        ),
        "{err}"
    );
    let missing = cpn(&["srv6", "decode", "/nonexistent.pcap"]);
    assert_eq!(missing.status.code(), Some(2));
}
