//! The Azure LLM inference trace 2023 (`AzureLLMInferenceTrace_code.csv` and `_conv.csv`):
//! one row per request, `TIMESTAMP,ContextTokens,GeneratedTokens`, and the rule that turns a
//! request's tokens into compute demand.

use std::io::Read;
use std::path::Path;

use cpn_units::{Flops, Nanos, Precision};

use crate::TraceError;
use crate::table::Table;

const TIMESTAMP_EXPECTED: &str = "a timestamp like 2023-11-16 18:15:46.6805900";

/// One inference request of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmRequest {
    /// Arrival time since the first request of the file (so the first is zero).
    pub arrival: Nanos,
    /// Prompt length in tokens (the prefill).
    pub context_tokens: u32,
    /// Output length in tokens (the decode).
    pub generated_tokens: u32,
}

/// Reads an Azure LLM inference trace. Rows must not be earlier than the first row, since
/// arrivals are offsets from it; the shipped files are in time order.
pub fn read_azure_llm(reader: impl Read, origin: &str) -> Result<Vec<LlmRequest>, TraceError> {
    let mut table = Table::open(reader, origin)?;
    let ts = table.column("TIMESTAMP")?;
    let ctx = table.column("ContextTokens")?;
    let generated = table.column("GeneratedTokens")?;
    let mut first: Option<(i128, String)> = None;
    let mut out = Vec::new();
    while let Some(row) = table.next_row()? {
        let text = row.text(ts)?;
        let t = parse_timestamp(text).ok_or_else(|| row.error(ts, TIMESTAMP_EXPECTED, text))?;
        let (t0, t0_text) = first.get_or_insert_with(|| (t, text.to_string()));
        let arrival = u64::try_from(t - *t0).map_err(|_| {
            let expected = format!("a time not before the first request ({t0_text})");
            row.error(ts, &expected, text)
        })?;
        out.push(LlmRequest {
            arrival: Nanos(arrival),
            context_tokens: row.int(ctx, "a token count (an integer 0 to 4294967295)")?,
            generated_tokens: row.int(generated, "a token count (an integer 0 to 4294967295)")?,
        });
    }
    Ok(out)
}

/// Reads an Azure LLM inference trace from a file, named in errors by its path.
pub fn load_azure_llm(path: impl AsRef<Path>) -> Result<Vec<LlmRequest>, TraceError> {
    crate::load(path.as_ref(), read_azure_llm)
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` (up to 9 fraction digits, UTC assumed) as nanoseconds
/// since 1970-01-01, or `None` when it is not one.
fn parse_timestamp(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 19 || !s.is_ascii() {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = &s[from..to];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut nanos: i64 = 0;
    if b.len() > 19 {
        let frac = &s[20..];
        if b[19] != b'.' || frac.is_empty() || frac.len() > 9 {
            return None;
        }
        let digits = num(20, b.len())?;
        let scale = 10_i64.pow(9 - u32::try_from(frac.len()).ok()?);
        nanos = digits * scale;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The rule that turns a request's tokens into compute demand.
///
/// A dense transformer of N parameters spends about 2·N floating-point operations per token
/// in its forward pass (one multiply and one add per weight); this is the rule of thumb
/// `C_forward ≈ 2·N` per token of J. Kaplan et al., "Scaling Laws for Neural Language Models",
/// arXiv:2001.08361, 2020 (Sec. 2.1). A request then costs
///
/// `FLOP = 2 × parameters × (context tokens + generated tokens)`
///
/// and takes `FLOP / throughput` at a site that sustains `throughput` operations per second
/// of the same precision. The rule leaves out attention over the context (Kaplan et al. give
/// it as `2·n_layer·n_ctx·d_attn` per token, small next to 2·N while the context is well
/// below 12 times the model width) and the fact that
/// decoding is usually bound by memory bandwidth rather than arithmetic: it is a statement of
/// work, and the site's sustained throughput (not its peak) is where efficiency enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeRule {
    /// The model's parameter count N.
    pub parameters: u64,
    /// The precision the work is counted in; a site's throughput must be of the same one.
    pub precision: Precision,
}

impl ComputeRule {
    /// 70 billion parameters: the size of the larger open models of the trace's time
    /// (Llama 2 70B). The trace itself does not say which models served it.
    pub const DEFAULT_PARAMETERS: u64 = 70_000_000_000;

    /// The work of one request in floating-point operations, or `None` on overflow.
    pub fn flop(&self, request: &LlmRequest) -> Option<u128> {
        let tokens = u128::from(request.context_tokens) + u128::from(request.generated_tokens);
        2_u128
            .checked_mul(u128::from(self.parameters))?
            .checked_mul(tokens)
    }

    /// How long the request takes at a site that sustains `throughput`, rounded up to the
    /// nanosecond. `None` when the throughput is zero or of another precision than the rule
    /// (precisions are never converted implicitly), or on overflow.
    pub fn processing_time(&self, request: &LlmRequest, throughput: Flops) -> Option<Nanos> {
        if throughput.precision != self.precision || throughput.per_second == 0 {
            return None;
        }
        let ns = self
            .flop(request)?
            .checked_mul(1_000_000_000)?
            .div_ceil(throughput.per_second);
        u64::try_from(ns).ok().map(Nanos)
    }
}

impl Default for ComputeRule {
    /// 70 B parameters counted in BF16, the usual serving precision.
    fn default() -> Self {
        ComputeRule {
            parameters: Self::DEFAULT_PARAMETERS,
            precision: Precision::Bf16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(input: &str, expected: &str) {
        match read_azure_llm(input.as_bytes(), "azure_code.csv") {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => assert_eq!(e.to_string(), expected),
        }
    }

    #[test]
    fn reads_a_good_file_with_crlf_and_no_final_newline() {
        let input = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n\
                     2023-11-16 18:15:46.6805900,374,44\r\n\
                     2023-11-16 18:15:50.9951690,396,109\r\n\
                     2023-11-17 00:00:00,1,2";
        let r = read_azure_llm(input.as_bytes(), "t.csv").expect("reads");
        assert_eq!(
            r,
            vec![
                LlmRequest {
                    arrival: Nanos(0),
                    context_tokens: 374,
                    generated_tokens: 44
                },
                LlmRequest {
                    arrival: Nanos(4_314_579_000),
                    context_tokens: 396,
                    generated_tokens: 109
                },
                LlmRequest {
                    arrival: Nanos(((5 * 3600 + 44 * 60 + 13) * 1_000_000_000) + 319_410_000),
                    context_tokens: 1,
                    generated_tokens: 2
                },
            ]
        );
    }

    #[test]
    fn rejects_bad_rows_with_their_line() {
        let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let ok = "2023-11-16 18:15:46.6805900,374,44\n";
        check_err(
            &format!("{h}{ok}x,1,2\n"),
            "azure_code.csv:3: TIMESTAMP: expected a timestamp like 2023-11-16 18:15:46.6805900, got \"x\"",
        );
        check_err(
            &format!("{h}2023-02-30 00:00:00,1,2\n"),
            "azure_code.csv:2: TIMESTAMP: expected a timestamp like 2023-11-16 18:15:46.6805900, got \"2023-02-30 00:00:00\"",
        );
        check_err(
            &format!("{h}{ok}2023-11-16 18:15:46.6805900,-1,2\n"),
            "azure_code.csv:3: ContextTokens: expected a token count (an integer 0 to 4294967295), got \"-1\"",
        );
        check_err(
            &format!("{h}{ok}{ok}2023-11-16 18:15:46.6805900,374\n"),
            "azure_code.csv:4: GeneratedTokens: expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens), got 2",
        );
        check_err(
            &format!("{h}{ok}2023-11-16 18:15:45,1,2\n"),
            "azure_code.csv:3: TIMESTAMP: expected a time not before the first request (2023-11-16 18:15:46.6805900), got \"2023-11-16 18:15:45\"",
        );
        check_err(
            "TIMESTAMP,GeneratedTokens\n",
            "azure_code.csv:1: header: expected a column named ContextTokens, got \"TIMESTAMP,GeneratedTokens\"",
        );
        check_err("", "azure_code.csv: empty file, expected a header line");
    }

    #[test]
    fn timestamps_match_the_calendar() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            parse_timestamp("2000-03-01 00:00:00.5"),
            Some(951_868_800_500_000_000)
        );
        assert_eq!(
            parse_timestamp("2024-02-29 00:00:00"),
            Some(1_709_164_800_000_000_000)
        );
        assert_eq!(parse_timestamp("2023-02-29 00:00:00"), None);
        assert_eq!(parse_timestamp("2023-11-16 18:15:46."), None);
        assert_eq!(parse_timestamp("2023-11-16 18:15:46.1234567890"), None);
        assert_eq!(parse_timestamp("2023-11-16T18:15:46"), None);
        assert_eq!(parse_timestamp("2023-11-16 18:15:4é"), None);
    }

    #[test]
    fn compute_rule_is_two_flop_per_parameter_and_token() {
        let rule = ComputeRule::default();
        let req = LlmRequest {
            arrival: Nanos(0),
            context_tokens: 374,
            generated_tokens: 44,
        };
        // 2 × 70e9 × 418 = 5.852e13 FLOP.
        assert_eq!(rule.flop(&req), Some(58_520_000_000_000));
        // At 1 PFLOP/s of BF16: 58.52 ms.
        let site = Flops {
            precision: Precision::Bf16,
            per_second: 1_000_000_000_000_000,
        };
        assert_eq!(rule.processing_time(&req, site), Some(Nanos(58_520_000)));
        assert_eq!(
            rule.processing_time(&req, Flops::fp64(1_000_000_000_000_000)),
            None
        );
        assert_eq!(
            rule.processing_time(
                &req,
                Flops {
                    precision: Precision::Bf16,
                    per_second: 0
                }
            ),
            None
        );
    }
}
