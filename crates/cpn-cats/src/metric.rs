//! The metric model: levels, categories, L0 kinds, units, sources, statistics, the bounded
//! [`Score`] and the three metric shapes. Code points live next to the variants so that the
//! codec and the documentation have a single table to agree with.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Declares a closed enum whose variants have a wire code and a lowercase name, with
/// `code`, `from_code`, `name` and `ALL`. Keeping the table in one place means an unknown
/// code can only be reported, never guessed.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every variant, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code point this crate puts on the wire for the value.
            pub const fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The value for a wire code point, or `None` if the code is unassigned.
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The lowercase name used in the draft (or in this crate where the draft has none).
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

coded_enum! {
    /// The abstraction level of a metric (draft section 3.1); a 2-bit field on the wire.
    Level { L0 = 0 => "l0", L1 = 1 => "l1", L2 = 2 => "l2", }
}

coded_enum! {
    /// The L1 categories of draft section 3.3: compute (CPU, GPU, NPU, memory), communication
    /// (throughput, bytes sent), service (tokens per second, availability) and composed (a mix,
    /// such as end-to-end delay). The code is the Metric Type of the category's L1 metric.
    Category {
        Compute = 0x40 => "compute_norm",
        Communication = 0x41 => "communication_norm",
        Service = 0x42 => "service_norm",
        Composed = 0x43 => "composed_norm",
    }
}

coded_enum! {
    /// The kinds of raw (L0) metric this crate can carry, taken from the list in draft
    /// section 3.2 and the examples of appendix A.1 (`ComputeCpuFrequency` is figure 9,
    /// `CommunicationTxBytes` figure 10, `DelayRaw` figure 11). The draft leaves L0
    /// unstandardised; these 8-bit Metric Type codes are this crate's own.
    L0Kind {
        ComputeCpuFrequency = 0x01 => "compute_cpu_frequency",
        ComputeCpuCores = 0x02 => "compute_cpu_cores",
        ComputeCpuUtilisation = 0x03 => "compute_cpu_utilisation",
        ComputeFlops = 0x04 => "compute_flops",
        ComputeMemoryBandwidth = 0x05 => "compute_memory_bandwidth",
        ComputeMemorySize = 0x06 => "compute_memory_size",
        ComputeMemoryUtilisation = 0x07 => "compute_memory_utilisation",
        CommunicationBandwidth = 0x10 => "communication_bandwidth",
        CommunicationThroughput = 0x11 => "communication_throughput",
        CommunicationTxBytes = 0x12 => "communication_tx_bytes",
        CommunicationRxBytes = 0x13 => "communication_rx_bytes",
        StorageAvailableSpace = 0x20 => "storage_available_space",
        StorageReadSpeed = 0x21 => "storage_read_speed",
        StorageWriteSpeed = 0x22 => "storage_write_speed",
        DelayRaw = 0x30 => "delay_raw",
    }
}

coded_enum! {
    /// Unit of an L0 value (draft section 4.1); a 4-bit field on the wire. The draft's list
    /// lacks microseconds, which its own delay example uses, and percent, which its
    /// utilisation metrics need; both are added here. `bps` and its multiples are bits per
    /// second.
    Unit {
        None = 0 => "none",
        Mhz = 1 => "mhz",
        Ghz = 2 => "ghz",
        Byte = 3 => "byte",
        Kbyte = 4 => "kbyte",
        Mbyte = 5 => "mbyte",
        Gbyte = 6 => "gbyte",
        Bps = 7 => "bps",
        Kbps = 8 => "kbps",
        Mbps = 9 => "mbps",
        Gbps = 10 => "gbps",
        Tbps = 11 => "tbps",
        Tflops = 12 => "tflops",
        Microsecond = 13 => "us",
        Percent = 14 => "percent",
    }
}

coded_enum! {
    /// Where a value came from (draft section 4.1); a 3-bit field on the wire. Nominal
    /// values are statically configured (a rated bandwidth), estimated ones computed by an
    /// estimation process, measured ones read directly from the device, normalised ones
    /// mapped onto a unitless scale and aggregated ones folded from several values.
    Source {
        Nominal = 0 => "nominal",
        Estimated = 1 => "estimation",
        Measured = 2 => "directly_measured",
        Normalised = 3 => "normalization",
        Aggregated = 4 => "aggregation",
    }
}

coded_enum! {
    /// The statistic taken over the collection intervals (draft section 4.1): largest,
    /// smallest, average or latest value; a 2-bit field on the wire.
    Statistic { Max = 0 => "max", Min = 1 => "min", Mean = 2 => "mean", Cur = 3 => "cur", }
}

/// The Metric Type field: which metric a record carries, which also fixes its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// A raw metric.
    L0(L0Kind),
    /// The normalised metric of one category.
    L1(Category),
    /// The draft's `norm_fi`, the single normalised metric.
    L2,
}

impl MetricType {
    /// Metric Type code of the L2 metric (`norm_fi`).
    pub const L2_CODE: u8 = 0x50;

    /// The 8-bit Metric Type code.
    pub const fn code(self) -> u8 {
        match self {
            MetricType::L0(kind) => kind.code(),
            MetricType::L1(category) => category.code(),
            MetricType::L2 => Self::L2_CODE,
        }
    }

    /// The metric type for a code, or `None` if unassigned.
    pub fn from_code(code: u8) -> Option<Self> {
        let l2 = (code == Self::L2_CODE).then_some(MetricType::L2);
        L0Kind::from_code(code)
            .map(MetricType::L0)
            .or_else(|| Category::from_code(code).map(MetricType::L1))
            .or(l2)
    }

    /// The level every metric of this type belongs to.
    pub const fn level(self) -> Level {
        match self {
            MetricType::L0(_) => Level::L0,
            MetricType::L1(_) => Level::L1,
            MetricType::L2 => Level::L2,
        }
    }
}

/// A score from 0 (poorest) to 10 (best), the range fixed by the draft's registry entries
/// (section 6.2.2). It holds a real number so that normalising and aggregating lose
/// nothing; the wire carries it rounded to an integer ([`Score::to_wire`]).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Score(f64);

/// A value that cannot be a [`Score`].
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("score {value} is not a finite number in 0..=10")]
pub struct ScoreError {
    /// The rejected value.
    pub value: f64,
}

impl Score {
    /// The poorest score.
    pub const MIN: Score = Score(0.0);
    /// The best score.
    pub const MAX: Score = Score(10.0);

    /// A score, if `value` is finite and within 0..=10.
    pub fn new(value: f64) -> Result<Self, ScoreError> {
        if (0.0..=10.0).contains(&value) {
            // Adding zero turns -0.0 into 0.0 so equal scores compare and print the same.
            Ok(Score(value + 0.0))
        } else {
            Err(ScoreError { value })
        }
    }

    /// Clamps into 0..=10. Only for results whose arithmetic cannot produce NaN; should one
    /// appear anyway it becomes the poorest score rather than a panic.
    pub(crate) fn clamped(value: f64) -> Self {
        if value.is_nan() {
            Score::MIN
        } else {
            Score(value.clamp(0.0, 10.0) + 0.0)
        }
    }

    /// The score as a number.
    pub const fn get(self) -> f64 {
        self.0
    }

    /// The integer the wire carries: the nearest integer, halves rounded up.
    pub fn to_wire(self) -> u8 {
        // The value is in 0.0..=10.0, so the rounded value fits a u8 exactly.
        self.0.round() as u8
    }

    /// The score a receiver sees after a trip over the wire.
    pub fn quantised(self) -> Self {
        Score(f64::from(self.to_wire()))
    }
}

impl TryFrom<f64> for Score {
    type Error = ScoreError;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Score::new(value)
    }
}

impl From<Score> for f64 {
    fn from(score: Score) -> f64 {
        score.0
    }
}

/// The value of an L0 metric; the variant is the 1-bit Format field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum L0Value {
    /// Format 0: unsigned integer, 4 octets big-endian.
    Unsigned(u32),
    /// Format 1: IEEE 754 binary32, 4 octets big-endian. Must be finite to be encoded.
    Float(f32),
}

impl L0Value {
    /// The value as a number, for normalisation.
    pub fn as_f64(self) -> f64 {
        match self {
            L0Value::Unsigned(v) => f64::from(v),
            L0Value::Float(v) => f64::from(v),
        }
    }
}

/// A raw metric. A nominal value is configured rather than collected over intervals, so it
/// has no statistic; every other source must name one (see `docs/cats-metrics.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct L0Metric {
    /// What is measured.
    pub kind: L0Kind,
    /// Unit of `value`.
    pub unit: Unit,
    /// The raw value.
    pub value: L0Value,
    /// Where the value came from.
    pub source: Source,
    /// The statistic taken; `None` exactly when `source` is nominal.
    pub statistic: Option<Statistic>,
}

impl L0Metric {
    /// A statically configured value, such as a rated frequency.
    pub fn nominal(kind: L0Kind, unit: Unit, value: L0Value) -> Self {
        L0Metric {
            kind,
            unit,
            value,
            source: Source::Nominal,
            statistic: None,
        }
    }

    /// A value read from the device, summarised by `statistic`.
    pub fn measured(kind: L0Kind, unit: Unit, value: L0Value, statistic: Statistic) -> Self {
        L0Metric {
            kind,
            unit,
            value,
            source: Source::Measured,
            statistic: Some(statistic),
        }
    }
}

/// The normalised score of one category.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct L1Metric {
    /// Which category the score summarises.
    pub category: Category,
    /// The score.
    pub score: Score,
    /// Where the score came from; the draft's examples all say normalisation.
    pub source: Source,
}

impl L1Metric {
    /// A normalised category score.
    pub fn new(category: Category, score: Score) -> Self {
        L1Metric {
            category,
            score,
            source: Source::Normalised,
        }
    }
}

/// The single normalised score of a service instance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct L2Metric {
    /// The score.
    pub score: Score,
    /// Where the score came from; the draft's example says normalisation.
    pub source: Source,
}

impl L2Metric {
    /// A normalised instance score.
    pub fn new(score: Score) -> Self {
        L2Metric {
            score,
            source: Source::Normalised,
        }
    }
}

/// A metric of any level, the unit the codec reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A raw metric.
    L0(L0Metric),
    /// A category score.
    L1(L1Metric),
    /// The instance score.
    L2(L2Metric),
}

impl Metric {
    /// The Metric Type of the record.
    pub fn metric_type(&self) -> MetricType {
        match self {
            Metric::L0(m) => MetricType::L0(m.kind),
            Metric::L1(m) => MetricType::L1(m.category),
            Metric::L2(_) => MetricType::L2,
        }
    }

    /// The level of the record.
    pub fn level(&self) -> Level {
        self.metric_type().level()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_across_metric_types() {
        let mut seen = std::collections::HashSet::new();
        let all = L0Kind::ALL
            .iter()
            .map(|k| MetricType::L0(*k))
            .chain(Category::ALL.iter().map(|c| MetricType::L1(*c)))
            .chain([MetricType::L2]);
        for t in all {
            assert!(seen.insert(t.code()), "duplicate code {:#04x}", t.code());
            assert_eq!(MetricType::from_code(t.code()), Some(t));
        }
    }
}
