//! The bit layouts of the draft's example figures (section 4.4.2 figures 5-7, section 4.4.3
//! figure 8, appendix A.1 figures 9-11). Fields are packed most significant bit first, in
//! figure order, with no gaps; the record is then padded with zero bits to a whole octet.
//!
//! ```text
//! L0:    | type 8 | level 2 | format 1 | unit 4 | length 3 | value 32 | source 3 | [statistic 2] | pad
//! L1/L2: | type 8 | level 2 | format 1 | length 3 | value 8 | source 3 | pad
//! ```
//!
//! The statistic is present exactly when the source is not nominal (the draft's nominal
//! example has none, its measured and aggregated ones do), which keeps decoding
//! unambiguous: L0 records are 7 octets either way, L1/L2 records 4 octets.

use std::fmt;

use thiserror::Error;

use crate::metric::{
    L0Kind, L0Metric, L0Value, L1Metric, L2Metric, Level, Metric, MetricType, Score, Source,
    Statistic, Unit,
};

/// Octets in the value of an L0 record (figures 9-11: 32 bits).
const L0_VALUE_OCTETS: u8 = 4;
/// Octets in the value of an L1/L2 record (figures 5-8: 8 bits).
const SCORE_VALUE_OCTETS: u8 = 1;
/// Format bit values: unsigned integer, IEEE 754 binary32.
const FORMAT_UNSIGNED: u32 = 0;
const FORMAT_FLOAT: u32 = 1;

/// A field of the layouts, named in decode errors. `Value` is 32 bits in L0 records and 8
/// in L1/L2 ones; `Statistic` is present only in L0 records with a non-nominal source;
/// `Padding` is the zero bits up to the next octet boundary and `End` what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    MetricType,
    Level,
    Format,
    Unit,
    Length,
    Value,
    Source,
    Statistic,
    Padding,
    End,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::MetricType => "metric type",
            Field::Level => "level",
            Field::Format => "format",
            Field::Unit => "unit",
            Field::Length => "length",
            Field::Value => "value",
            Field::Source => "source",
            Field::Statistic => "statistic",
            Field::Padding => "padding",
            Field::End => "end of record",
        })
    }
}

/// Why bytes are not a well-formed metric record: the field at fault, the bit where it
/// starts (counted from the first bit of the buffer, since fields do not start on octet
/// boundaries) and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{field} at bit {bit_offset}: {problem}")]
pub struct DecodeError {
    /// The field at fault.
    pub field: Field,
    /// Where the field starts.
    pub bit_offset: usize,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a field; see [`DecodeError`]. `TrailingBytes` comes only from
/// [`decode`], which expects exactly one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("truncated input, {needed} bits needed and {available} remain")]
    Truncated { needed: u32, available: usize },
    #[error("unknown code {0}")]
    UnknownCode(u32),
    #[error("metric type {metric_type:#04x} is not an {level} metric")]
    LevelMismatch { metric_type: u8, level: Level },
    #[error("l1 and l2 values are unsigned integers, not floating point")]
    FloatScore,
    #[error("{found} octets given, this layout carries {expected}")]
    BadLength { expected: u8, found: u8 },
    #[error("floating point value is not finite")]
    NotFinite,
    #[error("score {0} is above 10")]
    ScoreAboveTen(u8),
    #[error("bits are not zero")]
    NonZero,
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
}

/// Why a metric cannot be encoded: the statistic must be present exactly when the source
/// is not nominal, and a floating point value must be finite.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum EncodeError {
    #[error("a nominal l0 metric must not carry a statistic")]
    NominalWithStatistic,
    #[error("an l0 metric with source {metric_source} must carry a statistic")]
    MissingStatistic { metric_source: Source },
    #[error("l0 floating point value {0} is not finite")]
    NonFiniteValue(f32),
}

/// Octets the record of `metric` takes: 7 for L0, 4 for L1 and L2.
pub fn encoded_len(metric: &Metric) -> usize {
    match metric {
        Metric::L0(_) => 7,
        Metric::L1(_) | Metric::L2(_) => 4,
    }
}

/// Writes fields most significant bit first.
struct BitWriter {
    out: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn put(&mut self, value: impl Into<u32>, width: u32) {
        let value = value.into();
        for i in (0..width).rev() {
            if self.bits.is_multiple_of(8) {
                self.out.push(0);
            }
            if (value >> i) & 1 == 1
                && let Some(last) = self.out.last_mut()
            {
                *last |= 0x80 >> (self.bits % 8);
            }
            self.bits += 1;
        }
    }
}

/// Encodes one metric into its record.
pub fn encode(metric: &Metric) -> Result<Vec<u8>, EncodeError> {
    let mut w = BitWriter {
        out: Vec::with_capacity(encoded_len(metric)),
        bits: 0,
    };
    w.put(metric.metric_type().code(), 8);
    w.put(metric.level().code(), 2);
    match metric {
        Metric::L0(m) => {
            match (m.source, m.statistic) {
                (Source::Nominal, Some(_)) => return Err(EncodeError::NominalWithStatistic),
                (metric_source, None) if metric_source != Source::Nominal => {
                    return Err(EncodeError::MissingStatistic { metric_source });
                }
                _ => {}
            }
            let (format, bits) = match m.value {
                L0Value::Unsigned(v) => (FORMAT_UNSIGNED, v),
                L0Value::Float(v) if v.is_finite() => (FORMAT_FLOAT, v.to_bits()),
                L0Value::Float(v) => return Err(EncodeError::NonFiniteValue(v)),
            };
            w.put(format, 1);
            w.put(m.unit.code(), 4);
            w.put(L0_VALUE_OCTETS, 3);
            w.put(bits, 32);
            w.put(m.source.code(), 3);
            if let Some(statistic) = m.statistic {
                w.put(statistic.code(), 2);
            }
        }
        Metric::L1(L1Metric { score, source, .. }) | Metric::L2(L2Metric { score, source }) => {
            w.put(FORMAT_UNSIGNED, 1);
            w.put(SCORE_VALUE_OCTETS, 3);
            w.put(score.to_wire(), 8);
            w.put(source.code(), 3);
        }
    }
    Ok(w.out)
}

/// Reads fields most significant bit first, remembering where the current field starts.
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    field: Field,
    field_at: usize,
}

impl BitReader<'_> {
    /// The error for the field read last.
    fn fail(&self, problem: Problem) -> DecodeError {
        DecodeError {
            field: self.field,
            bit_offset: self.field_at,
            problem,
        }
    }

    /// Reads `field`, `width` (at most 32) bits wide, as an unsigned integer.
    fn take(&mut self, field: Field, width: u32) -> Result<u32, DecodeError> {
        (self.field, self.field_at) = (field, self.pos);
        let available = self.bytes.len().saturating_mul(8).saturating_sub(self.pos);
        let truncated = self.fail(Problem::Truncated {
            needed: width,
            available,
        });
        if width as usize > available {
            return Err(truncated);
        }
        let mut value = 0u32;
        for _ in 0..width {
            let byte = self.bytes.get(self.pos / 8).ok_or(truncated)?;
            value = (value << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(value)
    }

    /// Reads a field holding a code (at most 8 bits), mapping it through `lookup`.
    fn code<T>(
        &mut self,
        field: Field,
        width: u32,
        lookup: fn(u8) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let code = self.take(field, width)?;
        let known = u8::try_from(code).ok().and_then(lookup);
        known.ok_or_else(|| self.fail(Problem::UnknownCode(code)))
    }

    /// Reads the 3-bit length field and checks it holds `expected` octets.
    fn length(&mut self, expected: u8) -> Result<(), DecodeError> {
        let found = self.take(Field::Length, 3)?;
        // A 3-bit field always fits a u8.
        let found = u8::try_from(found).unwrap_or(u8::MAX);
        if found == expected {
            Ok(())
        } else {
            Err(self.fail(Problem::BadLength { expected, found }))
        }
    }
}

/// Decodes one record from the start of `bytes`, returning it and the octets it used; the
/// rest of the buffer is left alone, so concatenated records can be read one by one.
pub fn decode_prefix(bytes: &[u8]) -> Result<(Metric, usize), DecodeError> {
    let mut r = BitReader {
        bytes,
        pos: 0,
        field: Field::MetricType,
        field_at: 0,
    };
    let metric_type = r.code(Field::MetricType, 8, MetricType::from_code)?;
    let level = r.code(Field::Level, 2, Level::from_code)?;
    if metric_type.level() != level {
        return Err(r.fail(Problem::LevelMismatch {
            metric_type: metric_type.code(),
            level,
        }));
    }
    let format = r.take(Field::Format, 1)?;
    let metric = match metric_type {
        MetricType::L0(kind) => Metric::L0(decode_l0(&mut r, kind, format)?),
        MetricType::L1(category) => {
            let (score, source) = decode_score(&mut r, format)?;
            Metric::L1(L1Metric {
                category,
                score,
                source,
            })
        }
        MetricType::L2 => {
            let (score, source) = decode_score(&mut r, format)?;
            Metric::L2(L2Metric { score, source })
        }
    };
    let pad_width = u32::try_from((8 - r.pos % 8) % 8).unwrap_or(0);
    if r.take(Field::Padding, pad_width)? != 0 {
        return Err(r.fail(Problem::NonZero));
    }
    Ok((metric, r.pos / 8))
}

fn decode_l0(r: &mut BitReader<'_>, kind: L0Kind, format: u32) -> Result<L0Metric, DecodeError> {
    let unit = r.code(Field::Unit, 4, Unit::from_code)?;
    r.length(L0_VALUE_OCTETS)?;
    let raw = r.take(Field::Value, 32)?;
    let value = if format == FORMAT_UNSIGNED {
        L0Value::Unsigned(raw)
    } else {
        let v = f32::from_bits(raw);
        if !v.is_finite() {
            return Err(r.fail(Problem::NotFinite));
        }
        L0Value::Float(v)
    };
    let source = r.code(Field::Source, 3, Source::from_code)?;
    let statistic = match source {
        Source::Nominal => None,
        _ => Some(r.code(Field::Statistic, 2, Statistic::from_code)?),
    };
    Ok(L0Metric {
        kind,
        unit,
        value,
        source,
        statistic,
    })
}

fn decode_score(r: &mut BitReader<'_>, format: u32) -> Result<(Score, Source), DecodeError> {
    if format != FORMAT_UNSIGNED {
        return Err(r.fail(Problem::FloatScore));
    }
    r.length(SCORE_VALUE_OCTETS)?;
    let raw = r.take(Field::Value, 8)?;
    let value = u8::try_from(raw).unwrap_or(u8::MAX);
    let score = Score::new(f64::from(value)).map_err(|_| r.fail(Problem::ScoreAboveTen(value)))?;
    let source = r.code(Field::Source, 3, Source::from_code)?;
    Ok((score, source))
}

/// Decodes a buffer holding exactly one record.
pub fn decode(bytes: &[u8]) -> Result<Metric, DecodeError> {
    let (metric, used) = decode_prefix(bytes)?;
    match bytes.len().saturating_sub(used) {
        0 => Ok(metric),
        extra => {
            let problem = Problem::TrailingBytes(extra);
            Err(DecodeError {
                field: Field::End,
                bit_offset: used.saturating_mul(8),
                problem,
            })
        }
    }
}
