//! Exact decimal arithmetic for parsing and printing quantities. A number such as `93.015`
//! is held as the integer `93015` and a power of ten, so that `93.015 PFLOPS` becomes exactly
//! 93 015 000 000 000 000 FLOPS, with no binary floating point on the way.

/// A non-negative decimal `digits × 10^-scale`, as written by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub(crate) digits: u128,
    pub(crate) scale: u32,
}

/// Why a number could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NumberError {
    Empty,
    Negative,
    Malformed,
    TooLarge,
}

impl Decimal {
    /// Reads `12`, `0.5`, `.5`, `1e3`, `2.5E-3`. The sign `+` is allowed, `-` is refused with
    /// its own error so that the message can say the quantity may not be negative.
    pub(crate) fn parse(text: &str) -> Result<Decimal, NumberError> {
        let text = text.strip_prefix('+').unwrap_or(text);
        if text.starts_with('-') {
            return Err(NumberError::Negative);
        }
        if text.is_empty() {
            return Err(NumberError::Empty);
        }
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => {
                let exp: i32 = text[at + 1..].parse().map_err(|_| NumberError::Malformed)?;
                (&text[..at], exp)
            }
            None => (text, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(NumberError::Malformed);
        }
        let mut digits: u128 = 0;
        for c in int_part.chars().chain(frac_part.chars()) {
            let d = c.to_digit(10).ok_or(NumberError::Malformed)?;
            digits = digits
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(d)))
                .ok_or(NumberError::TooLarge)?;
        }
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| NumberError::TooLarge)?;
        let mut scale = frac_len - i64::from(exponent);
        while scale < 0 {
            digits = digits.checked_mul(10).ok_or(NumberError::TooLarge)?;
            scale += 1;
        }
        // Trailing zeros after the point carry no information; dropping them keeps `scale`
        // small so that later multiplications overflow only when the value itself is too big.
        while scale > 0 && digits.is_multiple_of(10) {
            digits /= 10;
            scale -= 1;
        }
        if digits == 0 {
            scale = 0;
        }
        let scale = u32::try_from(scale).map_err(|_| NumberError::TooLarge)?;
        Ok(Decimal { digits, scale })
    }

    /// `self × factor` as an integer, or `None` when it is not a whole number (too precise for
    /// the base unit) or does not fit.
    pub(crate) fn times(self, factor: u128) -> Result<u128, TimesError> {
        // digits × factor / 10^scale, reduced first by the common divisor of factor and
        // 10^scale, so that `…211455 × 10^18 / 10^18` or `9.0949…625 × 2^40` do not overflow
        // on the way to a result that fits. After the reduction the two are coprime, so the
        // result is whole exactly when the reduced divisor divides `digits`.
        let divisor = 10u128
            .checked_pow(self.scale)
            .ok_or(TimesError::TooPrecise)?;
        let common = gcd(factor, divisor);
        let (factor, divisor) = (factor / common, divisor / common);
        if !self.digits.is_multiple_of(divisor) {
            return Err(TimesError::TooPrecise);
        }
        (self.digits / divisor)
            .checked_mul(factor)
            .ok_or(TimesError::TooLarge)
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimesError {
    TooLarge,
    TooPrecise,
}

/// Writes `numerator / denominator` in decimal. Exact when the fraction terminates (the
/// denominator has no prime factors but 2 and 5, as for every SI and IEC prefix); otherwise
/// rounded to `max_places` decimals, and the second value is `false`.
pub(crate) fn ratio_to_string(
    numerator: u128,
    denominator: u128,
    max_places: u32,
) -> (String, bool) {
    let whole = numerator / denominator;
    let mut rest = numerator % denominator;
    let mut out = whole.to_string();
    if rest == 0 {
        return (out, true);
    }
    let mut frac = String::new();
    let mut places = 0;
    while rest != 0 && places < max_places {
        // Unit scales are at most about 10^24, so `rest × 10` fits comfortably in u128.
        let Some(widened) = rest.checked_mul(10) else {
            break;
        };
        let (digit, next) = (widened / denominator, widened % denominator);
        frac.push(char::from(b'0' + u8::try_from(digit).unwrap_or(9)));
        rest = next;
        places += 1;
    }
    let exact = rest == 0;
    if !exact {
        // Round half up on the next digit.
        let next_digit = rest.checked_mul(10).map_or(0, |r| r / denominator);
        if next_digit >= 5 {
            return round_up(whole, &frac);
        }
    }
    let trimmed = frac.trim_end_matches('0');
    if !trimmed.is_empty() {
        out.push('.');
        out.push_str(trimmed);
    }
    (out, exact)
}

fn round_up(whole: u128, frac: &str) -> (String, bool) {
    let mut digits: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    let mut carry = true;
    for d in digits.iter_mut().rev() {
        if !carry {
            break;
        }
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            carry = false;
        }
    }
    let whole = if carry { whole + 1 } else { whole };
    let frac: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        (whole.to_string(), false)
    } else {
        (format!("{whole}.{frac}"), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).expect("valid decimal")
    }

    #[test]
    fn parses_plain_and_exponent_forms() {
        assert_eq!(
            dec("93.015"),
            Decimal {
                digits: 93015,
                scale: 3
            }
        );
        assert_eq!(
            dec("1e3"),
            Decimal {
                digits: 1000,
                scale: 0
            }
        );
        assert_eq!(
            dec("2.5E-3"),
            Decimal {
                digits: 25,
                scale: 4
            }
        );
        assert_eq!(
            dec(".5"),
            Decimal {
                digits: 5,
                scale: 1
            }
        );
        assert_eq!(
            dec("5."),
            Decimal {
                digits: 5,
                scale: 0
            }
        );
        assert_eq!(
            dec("10.500"),
            Decimal {
                digits: 105,
                scale: 1
            }
        );
        assert_eq!(
            dec("0.000"),
            Decimal {
                digits: 0,
                scale: 0
            }
        );
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        assert_eq!(Decimal::parse("-1"), Err(NumberError::Negative));
        assert_eq!(Decimal::parse(""), Err(NumberError::Empty));
        for bad in [".", "1.2.3", "1e", "e5", "1,5", "0x10", "1e99999999999"] {
            assert!(Decimal::parse(bad).is_err(), "{bad} must be refused");
        }
        assert_eq!(Decimal::parse("1e40"), Err(NumberError::TooLarge));
    }

    #[test]
    fn multiplies_exactly_or_says_why_not() {
        assert_eq!(
            dec("93.015").times(1_000_000_000_000_000),
            Ok(93_015_000_000_000_000)
        );
        assert_eq!(dec("1.5").times(1), Err(TimesError::TooPrecise));
        assert_eq!(dec("3e38").times(10), Err(TimesError::TooLarge));
    }

    #[test]
    fn writes_fractions_exactly_when_they_terminate() {
        assert_eq!(ratio_to_string(93_015, 1000, 30), ("93.015".into(), true));
        assert_eq!(ratio_to_string(3, 1024, 30), ("0.0029296875".into(), true));
        assert_eq!(ratio_to_string(1, 3, 6), ("0.333333".into(), false));
        assert_eq!(ratio_to_string(2, 3, 6), ("0.666667".into(), false));
        assert_eq!(
            ratio_to_string(9_999_999, 10_000_000, 3),
            ("1".into(), false)
        );
    }
}
