//! `parse_link_speed` against a table of labels, most of them seen in the Topology Zoo.

use cpn_topo::parse_link_speed;

const K: u64 = 1_000;
const M: u64 = 1_000_000;
const G: u64 = 1_000_000_000;

#[test]
fn link_label_table() {
    let table: &[(&str, Option<u64>)] = &[
        // A number and a rate unit, in the many spellings of the Zoo.
        ("2.5G", Some(2_500 * M)),
        ("2.5 G", Some(2_500 * M)),
        ("10 Gbps", Some(10 * G)),
        ("10Gbps", Some(10 * G)),
        ("155 Mbps", Some(155 * M)),
        ("45Mbps", Some(45 * M)),
        ("1 Gb/s", Some(G)),
        ("1gb/s", Some(G)),
        ("2.5 Gbit/s", Some(2_500 * M)),
        ("10 GB/s - redundantno", Some(10 * G)),
        ("24 MB/s", Some(24 * M)),
        ("155Mbs", Some(155 * M)),
        ("40Mpbs", Some(40 * M)),
        ("64 Kbps", Some(64 * K)),
        ("64 Kbit/s", Some(64 * K)),
        ("0.02M", Some(20 * K)),
        ("0.5 M", Some(500 * K)),
        ("9600 bit/s", Some(9_600)),
        ("1 Tbps", Some(1_000 * G)),
        ("Peering, 1 Gbps", Some(G)),
        ("Conexion G-REUNA 1 Gbps", Some(G)),
        ("DTP-Ring 2.5 Gbit/s", Some(2_500 * M)),
        ("JGN2  10Gbit/s", Some(10 * G)),
        ("10Gb/s (planning)", Some(10 * G)),
        // Ethernet.
        ("1GE", Some(G)),
        ("10GE", Some(10 * G)),
        ("10 GE", Some(10 * G)),
        ("1GE Primary Link", Some(G)),
        ("GigE", Some(G)),
        ("GE", Some(G)),
        ("10G Ethernet", Some(10 * G)),
        ("FE", Some(100 * M)),
        // Carriers.
        ("OC-192", Some(9_953_280 * K)),
        ("OC-192c", Some(9_953_280 * K)),
        ("OC-48", Some(2_488_320 * K)),
        ("POS OC-48", Some(2_488_320 * K)),
        ("OC-12", Some(622_080 * K)),
        ("OC3", Some(155_520 * K)),
        ("STM-1", Some(155_520 * K)),
        ("STM-64", Some(9_953_280 * K)),
        ("IPLC STM-1", Some(155_520 * K)),
        ("E1", Some(2_048 * K)),
        ("E3", Some(34_368 * K)),
        ("T1", Some(1_544 * K)),
        ("ANS CO+RE T1", Some(1_544 * K)),
        ("T3", Some(44_736 * K)),
        ("DS3", Some(44_736 * K)),
        ("DS-3", Some(44_736 * K)),
        ("internetMCI T3", Some(44_736 * K)),
        // Counts.
        ("2x10Gb/s", Some(20 * G)),
        ("4*10Gb/s", Some(40 * G)),
        ("10*10Gb/s", Some(100 * G)),
        ("3 x 622Mbps", Some(1_866 * M)),
        ("4x155Mbps", Some(620 * M)),
        ("4*2 Mbps PDH", Some(8 * M)),
        ("8*GbE", Some(8 * G)),
        ("STM-64x2", Some(19_906_560 * K)),
        ("STM-4x2", Some(1_244_160 * K)),
        ("10GEx4", Some(40 * G)),
        ("10Gex12", Some(120 * G)),
        ("2 x E3", Some(68_736 * K)),
        // Several names of one speed agree; the first is returned.
        ("45 Mbps DS-3", Some(45 * M)),
        ("155 Mbps OC-3", Some(155 * M)),
        ("OC192/STM64", Some(9_953_280 * K)),
        ("OC48/STM16", Some(2_488_320 * K)),
        ("2 x E3 (68Mbps)", Some(68_736 * K)),
        // No speed stated.
        ("", None),
        ("Red Link", None),
        ("Green", None),
        ("Dark Fibre", None),
        ("Fibre ottica spenta (Dark Fibre)", None),
        ("Lambda", None),
        ("72 Lambda ROADM Network", None),
        ("WANPHY", None),
        ("Ethernet", None),
        ("High Bandwidth", None),
        ("TAT-14", None),
        ("SeaMeWe-3", None),
        ("Adria-1", None),
        ("Completion 2007-2008", None),
        ("1Q 2003", None),
        ("10 ms", None),
        // Speeds that disagree.
        ("155Mbs/1Gbps", None),
        ("GigE/FE/ATM", None),
        ("Managed Fiber (10Gbps, 100Mbps)", None),
        ("4x1 Gbps + 2x STM-1", None),
        ("300M-1Gb/s", None),
        // Ranges and alternatives.
        ("1-20Gbps", None),
        ("1-2.5 Gb/s", None),
        ("10-34 Mb/s", None),
        ("34/45 Mbit/s", None),
        ("45/155 Mbps", None),
        ("Dark Fiber (1-10Gbps)", None),
        ("10 to 40 Gbps", None),
        // Bounds.
        ("<10 Gbps", None),
        ("< 2.5 Gbps", None),
        ("<= 10 Mbps", None),
        (">10Gbps", None),
        ("<45Mb", None),
        ("less than 100 Mbps", None),
        ("100 Mbps and more", None),
        ("OC3 and below/STM1", None),
        // Counts that are not whole numbers.
        ("CANARIE N*10Gbit/s", None),
        ("2.5x10G", None),
        ("x 10G", None),
        // Not a valid speed.
        ("0 Mbps", None),
        ("0.0001 bps", None),
        ("99999999999999999999 Tbps", None),
        ("STM-0", None),
    ];
    let wrong: Vec<String> = table
        .iter()
        .filter_map(|&(label, want)| {
            let got = parse_link_speed(label);
            (got != want).then(|| format!("{label:?}: got {got:?}, want {want:?}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
