//! Golden tests against tcpdump's own test suite (`$CPN_DATA_DIR/srv6-pcaps`, see its
//! SOURCE.md): every routing header of every capture, decoded here, set beside tcpdump's
//! expected decode field by field; every SRH re-encoded to the exact bytes of the capture;
//! the truncated capture refused and the type 0 header recognised as not an SRH.

use std::path::Path;

use cpn_srv6::{Capture, Found, Problem, RoutingHeader, SrhError, routing_headers};

/// Every `RT6 (...)` group of a tcpdump output line, parentheses balanced.
fn rt6_groups(line: &str) -> Vec<&str> {
    let mut groups = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("RT6 (") {
        let tail = &rest[start..];
        let mut depth = 0;
        let mut end = None;
        for (i, c) in tail.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        // An unclosed group is tcpdump's truncation mark (`[|rt6]`): the rest of the line.
        let end = end.unwrap_or(tail.len());
        groups.push(&tail[..end]);
        rest = &tail[end..];
    }
    groups
}

/// The comma-separated fields inside `RT6 (...)`.
fn fields(group: &str) -> Vec<String> {
    let inner = group.trim_start_matches("RT6 (");
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    inner.split(", ").map(|f| f.trim().to_string()).collect()
}

fn decode_all(path: &Path) -> (Capture, Vec<Result<Vec<Found>, cpn_srv6::PacketError>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let capture = Capture::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoded = capture
        .records
        .iter()
        .map(|r| routing_headers(capture.link, &r.data))
        .collect();
    (capture, decoded)
}

/// (capture, expected outputs) as tcpdump's TESTLIST pairs them.
const CASES: [(&str, &[&str]); 6] = [
    ("ipv6-routing-header", &["ipv6-routing-header.out"]),
    ("ipv6-srh-ext-header", &["ipv6-srh-ext-header.out"]),
    ("ipv6-srh-insert-cksum", &["ipv6-srh-insert-cksum.out"]),
    (
        "ipv6-srh-ipproto-ether",
        &[
            "ipv6-srh-ipproto-ether-v.out",
            "ipv6-srh-ipproto-ether-ev.out",
        ],
    ),
    (
        "ipv6-srh-tlv-hmac",
        &["ipv6-srh-tlv-hmac.out", "ipv6-srh-tlv-hmac-v.out"],
    ),
    (
        "ipv6-srh-tlv-pad1-padn-5",
        &[
            "ipv6-srh-tlv-pad1-padn-5.out",
            "ipv6-srh-tlv-pad1-padn-5-v.out",
        ],
    ),
];

#[test]
fn every_header_matches_tcpdump_field_by_field() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let mut compared = 0;
    for (name, outs) in CASES {
        let (_, decoded) = decode_all(&dir.join(format!("{name}.pcap")));
        for out in outs {
            let text = std::fs::read_to_string(dir.join(out)).expect("expected output");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), decoded.len(), "{out}: one line per packet");
            for (n, (line, ours)) in lines.iter().zip(&decoded).enumerate() {
                let ours = ours
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{name} packet {}: {e}", n + 1));
                let theirs = rt6_groups(line);
                // tcpdump decodes the inner packet of an encapsulation too, but stops at an
                // inner header it does not print; it never shows more headers than we find.
                assert_eq!(
                    theirs.len(),
                    ours.len(),
                    "{out} packet {}: tcpdump shows {theirs:?}",
                    n + 1
                );
                for (t, o) in theirs.iter().zip(ours) {
                    let verbose = t.contains("flags=") || t.contains("rsv=");
                    let mine = o.header.to_string();
                    if verbose {
                        assert_eq!(&mine, t, "{out} packet {}", n + 1);
                    } else {
                        // Without -v tcpdump leaves out flags and the HMAC's details: every
                        // field it does print must be ours, in the same order.
                        let all = fields(&mine);
                        let mut at = 0;
                        for f in fields(t) {
                            let found = all[at..].iter().position(|m| *m == f);
                            let k = found.unwrap_or_else(|| {
                                panic!("{out} packet {}: field {f:?} not in {mine}", n + 1)
                            });
                            at += k + 1;
                        }
                    }
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 12, "routing headers compared");
}

#[test]
fn every_srh_re_encodes_to_the_captured_bytes() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let mut srhs = 0;
    for (name, _) in CASES {
        let (capture, decoded) = decode_all(&dir.join(format!("{name}.pcap")));
        for (record, found) in capture.records.iter().zip(decoded) {
            for f in found.expect("decodes") {
                if let RoutingHeader::Srh(srh) = f.header {
                    let bytes = srh.encode().expect("encodes");
                    assert_eq!(
                        bytes,
                        record.data[f.offset..f.offset + bytes.len()],
                        "{name}"
                    );
                    srhs += 1;
                }
            }
        }
    }
    assert_eq!(srhs, 5);
}

#[test]
fn the_truncated_capture_is_refused() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let (_, decoded) = decode_all(&dir.join("ipv6-srh-tlv-pad1-padn-5-trunc.pcap"));
    let err = decoded[0].clone().expect_err("truncated");
    assert_eq!(err.offset, 54);
    assert_eq!(
        err.problem,
        Problem::Srh(SrhError::Truncated {
            hdr_ext_len: 3,
            declared: 32,
            captured: 31
        })
    );
    // tcpdump marks the same header as cut.
    let out = std::fs::read_to_string(dir.join("ipv6-srh-tlv-pad1-padn-5-trunc.out"))
        .expect("expected output");
    assert!(out.contains("[|rt6]"), "{out}");
}

#[test]
fn the_type_0_header_is_not_an_srh() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let (_, decoded) = decode_all(&dir.join("ipv6-routing-header.pcap"));
    assert_eq!(decoded.len(), 4);
    for found in decoded {
        let found = found.expect("decodes");
        assert_eq!(found.len(), 1);
        assert!(
            matches!(found[0].header, RoutingHeader::Type0 { .. }),
            "{:?}",
            found[0]
        );
    }
}

#[test]
fn the_json_lists_segments_index_0_first() {
    let Some(dir) = cpn_testdata::data_dir("srv6-pcaps") else {
        return;
    };
    let (_, decoded) = decode_all(&dir.join("ipv6-srh-insert-cksum.pcap"));
    let found = decoded[0].as_ref().expect("decodes");
    let RoutingHeader::Srh(srh) = &found[0].header else {
        panic!("an SRH");
    };
    let json = serde_json::to_value(srh.to_json()).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "next_header": 17,
            "segments": ["b2::2", "3::d6", "2::f1:0"],
            "segments_left": 2,
            "last_entry": 2,
            "flags": 0,
            "tag": 0,
            "tlvs": []
        })
    );
    let (_, decoded) = decode_all(&dir.join("ipv6-srh-tlv-hmac.pcap"));
    let RoutingHeader::Srh(srh) = &decoded[0].as_ref().expect("decodes")[0].header else {
        panic!("an SRH");
    };
    assert_eq!(
        serde_json::to_value(srh.to_json()).expect("serialises")["tlvs"],
        serde_json::json!([{
            "type": "hmac", "d": true, "key_id": 0x5412_ab30u32,
            "hmac": "0000000000000000aaaaaaaaaaaaaaaa"
        }])
    );
}
