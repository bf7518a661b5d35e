//! Prices and power usage effectiveness, held as integers so that sums and comparisons are
//! exact. Scenario files write them as plain decimals (`price = 0.35`, `pue = 1.25`).

use std::fmt;

use serde::{Serialize, Serializer};

/// A price per compute-hour in millionths of the scenario's currency unit. One compute-hour
/// is one hour of 1 TFLOPS (fp64) of a site's computing power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(pub u64);

impl Price {
    pub const MICROS_PER_UNIT: u64 = 1_000_000;

    /// Reads a decimal written as a TOML float or integer, exactly, or says why not.
    pub fn from_decimal(value: f64) -> Result<Price, String> {
        micro_units(value, 6).map(Price)
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Self::MICROS_PER_UNIT as f64
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.0, 6)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// Power usage effectiveness in thousandths (1.25 is 1250). Never below 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pue(pub u32);

impl Pue {
    pub const ONE: Pue = Pue(1_000);

    pub fn from_decimal(value: f64) -> Result<Pue, String> {
        let milli = micro_units(value, 3)?;
        if milli < 1_000 {
            return Err(format!(
                "{value} is below 1.0: a facility cannot use less energy than its IT load"
            ));
        }
        u32::try_from(milli)
            .map(Pue)
            .map_err(|_| format!("{value} is implausibly large"))
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1_000.0
    }
}

impl fmt::Display for Pue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, u64::from(self.0), 3)
    }
}

impl Serialize for Pue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// `value × 10^places` as an exact integer. The float's shortest decimal form (what the
/// person wrote in the file) is what gets scaled, so `0.35` becomes exactly 350 000.
fn micro_units(value: f64, places: u32) -> Result<u64, String> {
    if !value.is_finite() {
        return Err(format!("{value} is not a number"));
    }
    if value < 0.0 {
        return Err(format!("{value} is negative"));
    }
    let text = format!("{value}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.len() > places as usize {
        return Err(format!("{value} has more than {places} decimal places"));
    }
    let digits = format!("{whole}{frac:0<width$}", width = places as usize);
    digits.parse().map_err(|_| format!("{value} is too large"))
}

fn write_fixed(f: &mut fmt::Formatter<'_>, value: u64, places: u32) -> fmt::Result {
    let unit = 10u64.pow(places);
    let (whole, frac) = (value / unit, value % unit);
    if frac == 0 {
        return write!(f, "{whole}");
    }
    let frac = format!("{frac:0width$}", width = places as usize);
    write!(f, "{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(Price::from_decimal(0.35), Ok(Price(350_000)));
        assert_eq!(Price::from_decimal(12.0), Ok(Price(12_000_000)));
        assert_eq!(Price(350_000).to_string(), "0.35");
        assert_eq!(Pue::from_decimal(1.25), Ok(Pue(1_250)));
        assert_eq!(Pue(1_250).to_string(), "1.25");
        assert!(Price::from_decimal(-1.0).is_err());
        assert!(Price::from_decimal(0.0000001).is_err());
        assert!(Pue::from_decimal(0.9).is_err());
        assert!(Pue::from_decimal(f64::NAN).is_err());
    }
}
