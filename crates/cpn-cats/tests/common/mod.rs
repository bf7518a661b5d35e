//! Shared by the integration tests: the golden vectors and a hex reader.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

/// Every golden vector, by file name, embedded at compile time.
pub(crate) const GOLDEN: &[(&str, &str)] = &[
    (
        "l0_compute_cpu_frequency",
        include_str!("../golden/l0_compute_cpu_frequency.hex"),
    ),
    (
        "l0_communication_tx_bytes",
        include_str!("../golden/l0_communication_tx_bytes.hex"),
    ),
    ("l0_delay_raw", include_str!("../golden/l0_delay_raw.hex")),
    (
        "l1_compute_norm",
        include_str!("../golden/l1_compute_norm.hex"),
    ),
    (
        "l1_communication_norm",
        include_str!("../golden/l1_communication_norm.hex"),
    ),
    (
        "l1_composed_norm",
        include_str!("../golden/l1_composed_norm.hex"),
    ),
    ("l2_norm_fi", include_str!("../golden/l2_norm_fi.hex")),
];

/// Octets written as whitespace-separated hex, with `#` comments.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .map(|octet| u8::from_str_radix(octet, 16).expect("golden files hold hex octets"))
        .collect()
}
