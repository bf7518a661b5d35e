//! Typed quantities for code: one type per dimension, so that a latency cannot be passed
//! where a bandwidth is expected. Each reads and prints like [`Quantity`] and serialises as
//! its human text (`"10 Gbps"`), which is what scenario files and JSON output carry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::quantity::{Dimension, Precision, Quantity, UnitError, accepted_units_of};

fn expect(input: &str, expected: Dimension) -> Result<u128, UnitError> {
    let q = Quantity::parse(input).map_err(|e| narrow(e, expected))?;
    if q.dimension != expected {
        return Err(UnitError::WrongDimension {
            input: input.trim().to_string(),
            expected,
            found: q.dimension,
        });
    }
    Ok(q.base)
}

/// Where the expected dimension is known, an error lists only the units of that dimension.
fn narrow(error: UnitError, expected: Dimension) -> UnitError {
    match error {
        UnitError::UnknownUnit { input, unit, .. } => UnitError::UnknownUnit {
            input,
            unit,
            accepted: accepted_units_of(expected),
        },
        UnitError::MissingUnit { input, .. } => UnitError::MissingUnit {
            input,
            accepted: accepted_units_of(expected),
        },
        other => other,
    }
}

/// Serde through the human text, for every typed quantity.
macro_rules! text_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A typed quantity held in a `u64` of the dimension's base unit.
macro_rules! u64_quantity {
    ($(#[$doc:meta])* $ty:ident, $dim:expr, $base:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub u64);

        impl $ty {
            pub const ZERO: $ty = $ty(0);
            #[doc = concat!("The value in ", $base, ".")]
            pub const fn get(self) -> u64 {
                self.0
            }
            pub fn checked_add(self, other: $ty) -> Option<$ty> {
                self.0.checked_add(other.0).map($ty)
            }
            pub fn saturating_sub(self, other: $ty) -> $ty {
                $ty(self.0.saturating_sub(other.0))
            }
        }

        impl FromStr for $ty {
            type Err = UnitError;
            fn from_str(s: &str) -> Result<Self, UnitError> {
                let base = expect(s, $dim)?;
                u64::try_from(base).map($ty).map_err(|_| UnitError::TooLarge { input: s.trim().to_string() })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Quantity::new($dim, u128::from(self.0)).fmt(f)
            }
        }

        text_serde!($ty);
    };
}

u64_quantity!(
    /// A span of time in nanoseconds: latency, processing time, a window.
    Nanos, Dimension::Time, "nanoseconds"
);
u64_quantity!(
    /// A data rate in bits per second: link capacity, reserved or requested bandwidth.
    Bandwidth, Dimension::DataRate, "bits per second"
);
u64_quantity!(
    /// A data size in bytes: memory, storage, a transfer.
    Bytes, Dimension::Data, "bytes"
);
u64_quantity!(
    /// A frequency in hertz: a CPU clock.
    Hertz, Dimension::Frequency, "hertz"
);
u64_quantity!(
    /// A dimensionless ratio in units of 10^-12 (so that 1.0 is 10^12): loss, utilisation.
    Ratio, Dimension::Ratio, "units of 10^-12"
);
u64_quantity!(
    /// Grid carbon intensity in milligrams of CO2 per kWh.
    Carbon, Dimension::Carbon, "mg CO2 per kWh"
);

impl Nanos {
    pub const fn from_micros(us: u64) -> Nanos {
        Nanos(us.saturating_mul(1_000))
    }
    pub const fn from_millis(ms: u64) -> Nanos {
        Nanos(ms.saturating_mul(1_000_000))
    }
    /// Whole microseconds, rounded to the nearest: the routing engine's integer latency.
    pub const fn as_micros_rounded(self) -> u64 {
        self.0.saturating_add(500) / 1_000
    }
}

impl Bandwidth {
    pub const fn from_mbps(mbps: u64) -> Bandwidth {
        Bandwidth(mbps.saturating_mul(1_000_000))
    }
    pub const fn from_gbps(gbps: u64) -> Bandwidth {
        Bandwidth(gbps.saturating_mul(1_000_000_000))
    }
}

impl Ratio {
    pub const ONE: Ratio = Ratio(1_000_000_000_000);

    /// The ratio as a fraction (0.001 for 0.1 %). For scoring and display, never for storage.
    pub fn as_fraction(self) -> f64 {
        self.0 as f64 / Ratio::ONE.0 as f64
    }
}

impl Carbon {
    /// Grams of CO2 per kWh, for arithmetic that is reported rather than stored.
    pub fn grams_per_kwh(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

/// Computing power: operations per second of one precision (fp64 FLOPS unless said).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flops {
    pub precision: Precision,
    pub per_second: u128,
}

impl Flops {
    pub const fn fp64(per_second: u128) -> Flops {
        Flops {
            precision: Precision::Fp64,
            per_second,
        }
    }

    /// Re-expresses this figure in another precision by an explicit factor
    /// (`numerator / denominator` operations of `target` per operation of `self`), for
    /// example 2/1 for fp16 on hardware that runs fp16 at twice its fp32 rate. This is the
    /// only way between precisions: there is no implied ratio.
    pub fn to_precision(
        self,
        target: Precision,
        numerator: u128,
        denominator: u128,
    ) -> Option<Flops> {
        let per_second = self
            .per_second
            .checked_mul(numerator)?
            .checked_div(denominator)?;
        Some(Flops {
            precision: target,
            per_second,
        })
    }
}

impl FromStr for Flops {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let q = Quantity::parse(s).map_err(|e| narrow(e, Dimension::Compute(Precision::Fp64)))?;
        match q.dimension {
            Dimension::Compute(precision) => Ok(Flops {
                precision,
                per_second: q.base,
            }),
            found => Err(UnitError::WrongDimension {
                input: s.trim().to_string(),
                expected: Dimension::Compute(Precision::Fp64),
                found,
            }),
        }
    }
}

impl fmt::Display for Flops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Quantity::new(Dimension::Compute(self.precision), self.per_second).fmt(f)
    }
}

text_serde!(Flops);

/// Hash rate in hashes per second (the mining world's unit of computing power).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashRate(pub u128);

impl FromStr for HashRate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        expect(s, Dimension::HashRate).map(HashRate)
    }
}

impl fmt::Display for HashRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Quantity::new(Dimension::HashRate, self.0).fmt(f)
    }
}

text_serde!(HashRate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parse_checks_the_dimension() {
        assert_eq!("10 Gbps".parse::<Bandwidth>(), Ok(Bandwidth::from_gbps(10)));
        assert_eq!("4 ms".parse::<Nanos>(), Ok(Nanos::from_millis(4)));
        let err = "4 ms"
            .parse::<Bandwidth>()
            .expect_err("time is not bandwidth");
        assert_eq!(err.to_string(), "`4 ms` is a time, expected a data rate");
        assert_eq!(
            "20 EB".parse::<Bytes>().map_err(|e| e.to_string()),
            Err("`20 EB` is too large to hold".into())
        );
    }

    #[test]
    fn flops_keep_their_precision() {
        let fp16: Flops = "312 TFLOPS fp16".parse().expect("valid");
        assert_eq!(fp16.precision, Precision::Fp16);
        assert_eq!(fp16.to_string(), "312 TFLOPS fp16");
        let as_fp32 = fp16.to_precision(Precision::Fp32, 1, 2).expect("fits");
        assert_eq!(as_fp32.to_string(), "156 TFLOPS fp32");
        let int8: Flops = "12 TOPS".parse().expect("valid");
        assert_eq!(int8.precision, Precision::Int8);
    }

    #[test]
    fn serialises_as_text() {
        let json = serde_json::to_string(&Bandwidth::from_gbps(100)).expect("serialises");
        assert_eq!(json, "\"100 Gbps\"");
        let back: Flops = serde_json::from_str("\"93.015 PFLOPS\"").expect("deserialises");
        assert_eq!(back, Flops::fp64(93_015_000_000_000_000));
        let err = serde_json::from_str::<Nanos>("\"10 Gbps\"").expect_err("wrong dimension");
        assert!(err.to_string().contains("expected a time"), "{err}");
    }

    #[test]
    fn micros_round_to_nearest() {
        assert_eq!(Nanos(7_499).as_micros_rounded(), 7);
        assert_eq!(Nanos(7_500).as_micros_rounded(), 8);
    }
}
