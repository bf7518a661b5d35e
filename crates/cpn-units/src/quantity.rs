//! A quantity of any dimension, as read from text: the common ground of every typed unit.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::decimal::{Decimal, NumberError, TimesError, ratio_to_string};
pub(crate) use crate::unit::accepted_units_of;
use crate::unit::{Unit, accepted_units};

/// The numeric format a computing-power figure is counted in. FLOPS of one precision are a
/// different quantity from FLOPS of another: a GPU's fp16 tensor throughput says little about
/// its fp64 throughput, so no conversion between them happens without an explicit factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp64,
    Fp32,
    Fp16,
    Bf16,
    Fp8,
    Int8,
}

impl Precision {
    pub const ALL: [Precision; 6] = [
        Precision::Fp64,
        Precision::Fp32,
        Precision::Fp16,
        Precision::Bf16,
        Precision::Fp8,
        Precision::Int8,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
        }
    }

    fn parse(text: &str) -> Option<Precision> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text))
    }

    fn is_integer(self) -> bool {
        self == Precision::Int8
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a quantity measures. Two quantities can be compared or converted only when their
/// dimensions are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Time,
    DataRate,
    Data,
    Frequency,
    Ratio,
    Carbon,
    Compute(Precision),
    HashRate,
}

impl Dimension {
    /// A short name, as used in error messages.
    pub fn family(self) -> &'static str {
        match self {
            Dimension::Time => "time",
            Dimension::DataRate => "data rate",
            Dimension::Data => "data size",
            Dimension::Frequency => "frequency",
            Dimension::Ratio => "ratio",
            Dimension::Carbon => "carbon intensity",
            Dimension::Compute(p) if p.is_integer() => "integer ops",
            Dimension::Compute(_) => "floating-point ops",
            Dimension::HashRate => "hash rate",
        }
    }

    /// The base unit that values of this dimension are counted in.
    pub fn base_unit(self) -> &'static str {
        match self {
            Dimension::Time => "ns",
            Dimension::DataRate => "bit/s",
            Dimension::Data => "byte",
            Dimension::Frequency => "Hz",
            Dimension::Ratio => "10^-12",
            Dimension::Carbon => "mg/kWh",
            Dimension::Compute(_) => "op/s",
            Dimension::HashRate => "H/s",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Compute(p) => write!(f, "{} ({p})", self.family()),
            _ => f.write_str(self.family()),
        }
    }
}

/// Why text could not be read as a quantity, or a quantity not converted. Every message
/// names the input, so that a caller can add where it came from and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("empty quantity: expected a number and a unit, such as `10 Gbps`")]
    Empty,
    #[error(
        "`{input}` does not start with a number: expected a number and a unit, such as `10 Gbps`"
    )]
    BadNumber { input: String },
    #[error("`{input}` is negative: quantities of this kind cannot be below zero")]
    Negative { input: String },
    #[error("`{input}` has no unit; accepted units are {accepted}")]
    MissingUnit { input: String, accepted: String },
    #[error("`{input}`: unknown unit `{unit}`; accepted units are {accepted}")]
    UnknownUnit {
        input: String,
        unit: String,
        accepted: String,
    },
    #[error(
        "`{input}`: unknown precision `{precision}` (expected one of fp64, fp32, fp16, bf16, fp8 for FLOPS, int8 for OPS)"
    )]
    UnknownPrecision { input: String, precision: String },
    #[error("`{input}` is more precise than {dimension} can hold: the finest step is 1 {}", dimension.base_unit())]
    TooPrecise { input: String, dimension: Dimension },
    #[error("`{input}` is too large to hold")]
    TooLarge { input: String },
    #[error("`{input}` is a {found}, expected a {expected}")]
    WrongDimension {
        input: String,
        expected: Dimension,
        found: Dimension,
    },
    #[error("cannot convert {from} to {to}: they are different quantities{}", hint(*from, *to))]
    Incompatible { from: Dimension, to: Dimension },
}

fn hint(from: Dimension, to: Dimension) -> &'static str {
    match (from, to) {
        (Dimension::Compute(_), Dimension::Compute(_)) => {
            "; precisions are never converted silently: give the target precision \
             (such as `TFLOPS fp16`) or an explicit factor"
        }
        _ => "",
    }
}

/// A non-negative amount of some dimension, held as an integer count of the dimension's base
/// unit (see [`Dimension::base_unit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    pub dimension: Dimension,
    pub base: u128,
}

impl Quantity {
    pub fn new(dimension: Dimension, base: u128) -> Quantity {
        Quantity { dimension, base }
    }

    /// Reads `93.015 PFLOPS`, `10Gbps`, `312 TFLOPS fp16`, `0.1%`, `2 TiB`, `581 g/kWh`.
    pub fn parse(input: &str) -> Result<Quantity, UnitError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(UnitError::Empty);
        }
        let owned = || input.trim().to_string();
        let (number, rest) = split_number(text);
        let number = Decimal::parse(number).map_err(|e| match e {
            NumberError::Negative => UnitError::Negative { input: owned() },
            NumberError::TooLarge => UnitError::TooLarge { input: owned() },
            NumberError::Empty | NumberError::Malformed => UnitError::BadNumber { input: owned() },
        })?;
        let (unit, dimension) = parse_unit(rest.trim(), text)?;
        let base = number.times(unit.scale).map_err(|e| match e {
            TimesError::TooLarge => UnitError::TooLarge { input: owned() },
            TimesError::TooPrecise => UnitError::TooPrecise {
                input: owned(),
                dimension,
            },
        })?;
        Ok(Quantity { dimension, base })
    }

    /// The value written in `unit` (a symbol such as `TFLOPS`, or `TFLOPS fp16`), exact where
    /// the fraction terminates: `93.015 PFLOPS` in `TFLOPS` is `93015 TFLOPS`.
    pub fn convert(&self, unit: &str) -> Result<String, UnitError> {
        let (target, dimension) = parse_unit(unit.trim(), unit)?;
        let dimension = match (self.dimension, dimension) {
            // A bare `TFLOPS` target takes the value's own precision only when the value is
            // fp64, the default: anything else must be named.
            (from, to) if from == to => to,
            (from, to) => return Err(UnitError::Incompatible { from, to }),
        };
        let (number, exact) = ratio_to_string(self.base, target.scale, 12);
        let approx = if exact { "" } else { "~" };
        Ok(format!(
            "{approx}{number} {}{}",
            target.symbol,
            precision_suffix(dimension)
        ))
    }
}

/// Splits `12.5 Gbps` or `200EH/s` into the number and the rest. An `e` counts as an exponent
/// only when digits follow it, so that `2EH/s` is two exa-hashes per second.
fn split_number(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
        end += 1;
    }
    if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
        let mut exp_end = end + 1;
        if exp_end < bytes.len() && matches!(bytes[exp_end], b'+' | b'-') {
            exp_end += 1;
        }
        let digits_start = exp_end;
        while exp_end < bytes.len() && bytes[exp_end].is_ascii_digit() {
            exp_end += 1;
        }
        if exp_end > digits_start {
            end = exp_end;
        }
    }
    text.split_at(end)
}

/// Reads a unit symbol with an optional precision: `TFLOPS`, `TFLOPS fp16`, `TFLOPS(fp16)`.
fn parse_unit(text: &str, input: &str) -> Result<(Unit, Dimension), UnitError> {
    if text.is_empty() {
        return Err(UnitError::MissingUnit {
            input: input.trim().to_string(),
            accepted: accepted_units(),
        });
    }
    let (symbol, precision) = match text.find(|c: char| c.is_whitespace() || c == '(') {
        Some(at) => {
            let precision = text[at..]
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            (&text[..at], Some(precision))
        }
        None => (text, None),
    };
    let unit = Unit::find(symbol).ok_or_else(|| UnitError::UnknownUnit {
        input: input.trim().to_string(),
        unit: text.to_string(),
        accepted: accepted_units(),
    })?;
    let dimension = match (unit.dimension, precision) {
        (dimension, None) => dimension,
        (Dimension::Compute(default), Some(name)) => {
            let precision =
                Precision::parse(name).filter(|p| p.is_integer() == default.is_integer());
            match precision {
                Some(p) => Dimension::Compute(p),
                None => {
                    return Err(UnitError::UnknownPrecision {
                        input: input.trim().to_string(),
                        precision: name.to_string(),
                    });
                }
            }
        }
        (_, Some(_)) => {
            return Err(UnitError::UnknownUnit {
                input: input.trim().to_string(),
                unit: text.to_string(),
                accepted: accepted_units(),
            });
        }
    };
    Ok((unit, dimension))
}

fn precision_suffix(dimension: Dimension) -> String {
    match dimension {
        Dimension::Compute(p) if p != Precision::Fp64 && p != Precision::Int8 => format!(" {p}"),
        _ => String::new(),
    }
}

impl fmt::Display for Quantity {
    /// Writes the value exactly, in the largest unit that keeps it at 1 or more: 93 015 TFLOPS
    /// prints as `93.015 PFLOPS`; data sizes in binary units where that is shorter (`2 TiB`),
    /// else in decimal ones (`1.5 GB`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Candidates: the largest display unit not above the value, one per ladder (data
        // sizes have a decimal and a binary ladder). The shortest exact text wins, so that
        // 2^41 bytes print as `2 TiB` and 10^13 bytes as `10 TB`.
        let mut best: Option<(String, &Unit)> = None;
        let ladders: &[bool] = if self.dimension == Dimension::Data {
            &[false, true]
        } else {
            &[false]
        };
        for &binary in ladders {
            let unit = Unit::display_ladder(self.dimension)
                .filter(|u| u.scale == 1 || is_binary(u) == binary)
                .filter(|u| u.scale <= self.base.max(1))
                .last()
                .or_else(|| Unit::display_ladder(self.dimension).next());
            let Some(unit) = unit else { continue };
            // Display units are powers of 2 or of 10, so the fraction always terminates.
            let (number, _) = ratio_to_string(self.base, unit.scale, 40);
            if best.as_ref().is_none_or(|(b, _)| number.len() < b.len()) {
                best = Some((number, unit));
            }
        }
        let Some((number, unit)) = best else {
            return write!(f, "{} {}", self.base, self.dimension.base_unit());
        };
        let space = if unit.symbol == "%" { "" } else { " " };
        write!(
            f,
            "{number}{space}{}{}",
            unit.symbol,
            precision_suffix(self.dimension)
        )
    }
}

fn is_binary(unit: &Unit) -> bool {
    unit.symbol.ends_with("iB")
}

impl FromStr for Quantity {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_the_issue_examples() {
        assert_eq!(q("93.015 PFLOPS").base, 93_015_000_000_000_000);
        assert_eq!(
            q("200 EH/s"),
            Quantity::new(Dimension::HashRate, 200 * 10u128.pow(18))
        );
        assert_eq!(q("12 TOPS").dimension, Dimension::Compute(Precision::Int8));
        assert_eq!(q("2.5 GHz").base, 2_500_000_000);
        assert_eq!(q("10 Gbps").base, 10_000_000_000);
        assert_eq!(q("4 ms").base, 4_000_000);
        assert_eq!(q("2 TiB").base, 2 << 40);
        assert_eq!(q("0.1%").base, 1_000_000_000);
        assert_eq!(q("581 g/kWh").base, 581_000);
    }

    #[test]
    fn prints_in_the_largest_unit() {
        for (text, shown) in [
            ("93015 TFLOPS", "93.015 PFLOPS"),
            ("200 EH/s", "200 EH/s"),
            ("12000 GOPS", "12 TOPS"),
            ("2500 MHz", "2.5 GHz"),
            ("10000 Mbps", "10 Gbps"),
            ("4000 us", "4 ms"),
            ("2048 GiB", "2 TiB"),
            ("1500 MB", "1.5 GB"),
            ("0.1 %", "0.1%"),
            ("0.6516 kg/kWh", "651.6 g/kWh"),
            ("312 TFLOPS fp16", "312 TFLOPS fp16"),
            ("0 Gbps", "0 bps"),
            ("1 min", "60 s"),
        ] {
            assert_eq!(q(text).to_string(), shown, "{text}");
        }
    }

    #[test]
    fn converts_exactly() {
        assert_eq!(
            q("93.015 PFLOPS").convert("TFLOPS"),
            Ok("93015 TFLOPS".into())
        );
        assert_eq!(q("1 GB/s").convert("Gbps"), Ok("8 Gbps".into()));
        assert_eq!(q("1 h").convert("min"), Ok("60 min".into()));
        assert_eq!(q("1 min").convert("h"), Ok("~0.016666666667 h".into()));
        assert_eq!(
            q("312 TFLOPS fp16").convert("PFLOPS fp16"),
            Ok("0.312 PFLOPS fp16".into())
        );
    }

    #[test]
    fn never_converts_between_precisions() {
        let err = q("312 TFLOPS fp16")
            .convert("TFLOPS")
            .expect_err("fp16 is not fp64");
        assert!(
            err.to_string()
                .contains("precisions are never converted silently"),
            "{err}"
        );
        assert!(q("1 TOPS").convert("TFLOPS").is_err());
        assert!(q("1 Gbps").convert("GB").is_err());
    }

    #[test]
    fn errors_name_the_input_and_what_is_accepted() {
        let err = q_err("5 furlongs");
        assert!(
            err.contains("`5 furlongs`") && err.contains("unknown unit `furlongs`"),
            "{err}"
        );
        assert!(err.contains("Gbps") && err.contains("TFLOPS"), "{err}");
        assert!(q_err("Gbps").contains("does not start with a number"));
        assert!(q_err("-5 Gbps").contains("negative"));
        assert!(q_err("12").contains("has no unit"));
        assert!(q_err("0.5 ns").contains("finest step is 1 ns"));
        assert!(q_err("1e30 EFLOPS").contains("too large"));
        assert!(q_err("1 TFLOPS fp12").contains("unknown precision `fp12`"));
        assert!(q_err("1 TOPS fp16").contains("unknown precision"));
        assert!(q_err("1 Gbps fast").contains("unknown unit"));
    }

    fn q_err(text: &str) -> String {
        match Quantity::parse(text) {
            Ok(v) => panic!("{text} parsed as {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn is_lenient_on_case_only_where_unambiguous() {
        assert_eq!(q("10 gbps"), q("10 Gbps"));
        assert_eq!(q("1 tflops"), q("1 TFLOPS"));
        assert_eq!(q("1 TFLOP/s"), q("1 TFLOPS"));
        assert_ne!(q("1 MB/s"), q("1 Mb/s"));
        assert!(Quantity::parse("1 mb/s").is_err());
        assert_eq!(q("2EH/s"), q("2 EH/s"));
        assert_eq!(q("1e3 Mbps"), q("1 Gbps"));
        assert_eq!(q("5 TFLOPS(fp32)"), q("5 TFLOPS fp32"));
    }
}
