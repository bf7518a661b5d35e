//! Normalisation: mapping a raw value with a unit onto a unitless [`Score`] (draft section
//! 4.2.2). The draft names sigmoid, min-max and z-score but gives no formulas; the ones here
//! are the textbook forms scaled to the registry's 0..=10 range, written out in
//! `docs/cats-metrics.md`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metric::Score;

/// How many standard deviations either side of the mean the z-score mapping spans: a value
/// `Z_SCORE_SPAN` deviations below the mean scores 0, one as far above scores 10. Three
/// deviations cover 99.7% of a normal distribution, so only outliers saturate.
pub const Z_SCORE_SPAN: f64 = 3.0;

/// A normalisation function with its parameters. Each one, taken alone, rewards larger raw
/// values; [`Direction`] flips that for metrics such as delay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// `10 / (1 + exp(-steepness * (x - midpoint)))`: 5 at the midpoint, approaching 0 and
    /// 10 smoothly. `steepness` must be positive.
    Sigmoid {
        /// Raw value that scores 5.
        midpoint: f64,
        /// How fast the score rises around the midpoint, per raw unit.
        steepness: f64,
    },
    /// `10 * (x - min) / (max - min)`, clamped to 0..=10. Needs `min < max`.
    MinMax {
        /// Raw value that scores 0; anything lower also scores 0.
        min: f64,
        /// Raw value that scores 10; anything higher also scores 10.
        max: f64,
    },
    /// `10 * (z + SPAN) / (2 * SPAN)` with `z = (x - mean) / std_dev` and
    /// `SPAN = Z_SCORE_SPAN`, clamped to 0..=10. `std_dev` must be positive.
    ZScore {
        /// Mean of the reference population.
        mean: f64,
        /// Standard deviation of the reference population.
        std_dev: f64,
    },
}

/// Whether a larger raw value is better (FLOPS, bandwidth) or worse (delay, utilisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The function's score is used as is.
    HigherIsBetter,
    /// The score is mirrored: `10 - score`.
    LowerIsBetter,
}

/// A normalisation function and the direction of its metric: all an agent needs to turn one
/// raw L0 value into a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    /// The function and its parameters.
    pub function: Normalisation,
    /// Whether larger raw values are better.
    pub direction: Direction,
}

/// Why a value could not be normalised.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum NormaliseError {
    #[error("raw value {value} is not a finite number")]
    NonFiniteInput { value: f64 },
    #[error("{name} parameter {value} is not a finite number")]
    NonFiniteParameter { name: &'static str, value: f64 },
    #[error("{name} parameter must be positive, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("min-max range needs a finite min < max, got min {min} and max {max}")]
    BadRange { min: f64, max: f64 },
}

fn finite(name: &'static str, value: f64) -> Result<f64, NormaliseError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NormaliseError::NonFiniteParameter { name, value })
    }
}

fn positive(name: &'static str, value: f64) -> Result<f64, NormaliseError> {
    if finite(name, value)? > 0.0 {
        Ok(value)
    } else {
        Err(NormaliseError::NotPositive { name, value })
    }
}

impl Normaliser {
    /// Checks the parameters without normalising anything, so a configuration can be
    /// rejected when it is loaded rather than at the first measurement.
    pub fn validate(&self) -> Result<(), NormaliseError> {
        match self.function {
            Normalisation::Sigmoid {
                midpoint,
                steepness,
            } => {
                finite("midpoint", midpoint)?;
                positive("steepness", steepness)?;
            }
            Normalisation::MinMax { min, max } => {
                finite("min", min)?;
                finite("max", max)?;
                // A range whose width overflows would turn every score into NaN.
                if !(min < max && (max - min).is_finite()) {
                    return Err(NormaliseError::BadRange { min, max });
                }
            }
            Normalisation::ZScore { mean, std_dev } => {
                finite("mean", mean)?;
                positive("std_dev", std_dev)?;
            }
        }
        Ok(())
    }

    /// The score of `raw`.
    pub fn apply(&self, raw: f64) -> Result<Score, NormaliseError> {
        self.validate()?;
        if !raw.is_finite() {
            return Err(NormaliseError::NonFiniteInput { value: raw });
        }
        // Differences of finite values can overflow to an infinity but never become NaN,
        // and every formula below maps an infinity to a bound, so `clamped` sees no NaN.
        let score = match self.function {
            Normalisation::Sigmoid {
                midpoint,
                steepness,
            } => 10.0 / (1.0 + (-steepness * (raw - midpoint)).exp()),
            Normalisation::MinMax { min, max } => 10.0 * ((raw - min) / (max - min)),
            Normalisation::ZScore { mean, std_dev } => {
                let z = (raw - mean) / std_dev;
                10.0 * ((z + Z_SCORE_SPAN) / (2.0 * Z_SCORE_SPAN))
            }
        };
        let score = Score::clamped(score);
        Ok(match self.direction {
            Direction::HigherIsBetter => score,
            Direction::LowerIsBetter => Score::clamped(10.0 - score.get()),
        })
    }
}

/// The score of `raw` under `normaliser`; see [`Normaliser::apply`].
pub fn normalise(normaliser: &Normaliser, raw: f64) -> Result<Score, NormaliseError> {
    normaliser.apply(raw)
}
