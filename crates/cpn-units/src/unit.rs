//! The table of unit symbols people write, and what each one means in base units.

use crate::quantity::{Dimension, Precision};

/// One unit symbol: `scale` base units of `dimension` make one of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub symbol: &'static str,
    pub dimension: Dimension,
    pub scale: u128,
    /// Matched without regard to case (`gbps`, `tflops`). Only where no two symbols of the
    /// table differ by case alone: `MB/s` (bytes) and `Mb/s` (bits) must stay exact.
    loose: bool,
    /// Used when printing: the largest display unit not above the value is chosen.
    display: bool,
}

const fn u(
    symbol: &'static str,
    dimension: Dimension,
    scale: u128,
    loose: bool,
    display: bool,
) -> Unit {
    Unit {
        symbol,
        dimension,
        scale,
        loose,
        display,
    }
}

const K: u128 = 1_000;
const M: u128 = 1_000_000;
const G: u128 = 1_000_000_000;
const T: u128 = 1_000_000_000_000;
const P: u128 = 1_000_000_000_000_000;
const E: u128 = 1_000_000_000_000_000_000;
const KI: u128 = 1 << 10;

use Dimension::{Carbon, Compute, Data, DataRate, Frequency, HashRate, Ratio, Time};
const FLOPS: Dimension = Compute(Precision::Fp64);
const OPS: Dimension = Compute(Precision::Int8);

/// Base units: time ns, data rate bit/s, data byte, frequency Hz, ratio 10^-12 (so that a
/// loss of one packet in a trillion is still exact), carbon mg CO2 per kWh, compute one
/// operation per second, hash rate one hash per second.
pub(crate) const UNITS: &[Unit] = &[
    u("ns", Time, 1, false, true),
    u("us", Time, K, false, false),
    u("µs", Time, K, false, true),
    u("μs", Time, K, false, false),
    u("ms", Time, M, false, true),
    u("s", Time, G, false, true),
    u("min", Time, 60 * G, false, false),
    u("h", Time, 3_600 * G, false, false),
    u("bps", DataRate, 1, true, true),
    u("kbps", DataRate, K, true, true),
    u("Mbps", DataRate, M, true, true),
    u("Gbps", DataRate, G, true, true),
    u("Tbps", DataRate, T, true, true),
    u("Pbps", DataRate, P, true, true),
    u("Ebps", DataRate, E, true, true),
    u("b/s", DataRate, 1, false, false),
    u("kb/s", DataRate, K, false, false),
    u("Mb/s", DataRate, M, false, false),
    u("Gb/s", DataRate, G, false, false),
    u("Tb/s", DataRate, T, false, false),
    u("B/s", DataRate, 8, false, false),
    u("kB/s", DataRate, 8 * K, false, false),
    u("MB/s", DataRate, 8 * M, false, false),
    u("GB/s", DataRate, 8 * G, false, false),
    u("TB/s", DataRate, 8 * T, false, false),
    u("B", Data, 1, false, true),
    u("kB", Data, K, false, true),
    u("KB", Data, K, false, false),
    u("MB", Data, M, false, true),
    u("GB", Data, G, false, true),
    u("TB", Data, T, false, true),
    u("PB", Data, P, false, true),
    u("EB", Data, E, false, true),
    u("KiB", Data, KI, false, true),
    u("MiB", Data, KI * KI, false, true),
    u("GiB", Data, KI * KI * KI, false, true),
    u("TiB", Data, KI * KI * KI * KI, false, true),
    u("PiB", Data, KI * KI * KI * KI * KI, false, true),
    u("EiB", Data, KI * KI * KI * KI * KI * KI, false, true),
    u("Hz", Frequency, 1, true, true),
    u("kHz", Frequency, K, true, true),
    u("MHz", Frequency, M, true, true),
    u("GHz", Frequency, G, true, true),
    u("THz", Frequency, T, true, true),
    u("%", Ratio, 10 * G, false, true),
    u("ppm", Ratio, M, false, false),
    u("ppb", Ratio, K, false, false),
    u("g/kWh", Carbon, K, false, true),
    u("gCO2/kWh", Carbon, K, false, false),
    u("kg/kWh", Carbon, M, false, false),
    u("FLOPS", FLOPS, 1, true, true),
    u("kFLOPS", FLOPS, K, true, true),
    u("MFLOPS", FLOPS, M, true, true),
    u("GFLOPS", FLOPS, G, true, true),
    u("TFLOPS", FLOPS, T, true, true),
    u("PFLOPS", FLOPS, P, true, true),
    u("EFLOPS", FLOPS, E, true, true),
    u("OPS", OPS, 1, true, true),
    u("kOPS", OPS, K, true, true),
    u("MOPS", OPS, M, true, true),
    u("GOPS", OPS, G, true, true),
    u("TOPS", OPS, T, true, true),
    u("POPS", OPS, P, true, true),
    u("EOPS", OPS, E, true, true),
    u("H/s", HashRate, 1, true, true),
    u("kH/s", HashRate, K, true, true),
    u("MH/s", HashRate, M, true, true),
    u("GH/s", HashRate, G, true, true),
    u("TH/s", HashRate, T, true, true),
    u("PH/s", HashRate, P, true, true),
    u("EH/s", HashRate, E, true, true),
];

impl Unit {
    /// Finds a unit by its symbol: exact first, then without regard to case where that is
    /// unambiguous. `FLOP/s` is accepted as another spelling of `FLOPS`.
    pub fn find(symbol: &str) -> Option<Unit> {
        let canonical;
        let symbol = if let Some(prefix) = strip_suffix_ignore_case(symbol, "FLOP/s") {
            canonical = format!("{prefix}FLOPS");
            canonical.as_str()
        } else {
            symbol
        };
        UNITS
            .iter()
            .find(|u| u.symbol == symbol)
            .or_else(|| {
                UNITS
                    .iter()
                    .find(|u| u.loose && u.symbol.eq_ignore_ascii_case(symbol))
            })
            .copied()
    }

    /// Every unit symbol the parser knows.
    pub fn all() -> &'static [Unit] {
        UNITS
    }

    /// The units a value of `dimension` may be printed in, smallest first.
    pub(crate) fn display_ladder(dimension: Dimension) -> impl Iterator<Item = &'static Unit> {
        let family = dimension.family();
        UNITS
            .iter()
            .filter(move |u| u.display && u.dimension.family() == family)
    }
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

/// Every accepted unit symbol, grouped by dimension, for error messages and `--help`.
pub fn accepted_units() -> String {
    let mut out = String::new();
    let mut last = None;
    for unit in UNITS {
        let family = unit.dimension.family();
        if last != Some(family) {
            if last.is_some() {
                out.push_str("; ");
            }
            out.push_str(family);
            out.push_str(": ");
            last = Some(family);
        } else {
            out.push_str(", ");
        }
        out.push_str(unit.symbol);
    }
    out.push_str(" (FLOPS are fp64 unless a precision follows: `TFLOPS fp16`; OPS are int8)");
    out
}

/// The accepted unit symbols of one dimension, for errors about a field of known dimension.
pub(crate) fn accepted_units_of(dimension: Dimension) -> String {
    let symbols: Vec<&str> = UNITS
        .iter()
        .filter(|u| u.dimension.family() == dimension.family())
        .map(|u| u.symbol)
        .collect();
    let mut out = symbols.join(", ");
    if let Dimension::Compute(p) = dimension {
        if p == Precision::Int8 {
            out.push_str(" (int8)");
        } else {
            out.push_str(" (fp64 unless a precision follows, such as `TFLOPS fp16`)");
        }
    }
    out
}
