//! Reading a link speed out of the free text that network maps print next to a link.

/// Token of a link label, after ASCII lowercasing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(f64),
    Word(&'a str),
    Sym(char),
}

/// SONET OC-1 and SDH STM-1 line rates, the units of the `OC-n` and `STM-n` names.
const OC1_BPS: f64 = 51.84e6;
const STM1_BPS: f64 = 155.52e6;

/// Speeds named in one label may differ by this fraction and still be the same speed, so that
/// a nominal figure next to a carrier name ("45 Mbps DS-3" is 44.736 Mb/s) agrees with it.
const AGREEMENT: f64 = 0.05;

/// Reads a link speed in bits per second from a free-text link label, or `None` when the label
/// does not state exactly one speed.
///
/// Rules (case is ignored):
/// - A number with a rate unit: `k`, `m`, `g` or `t` (10^3, 10^6, 10^9, 10^12; `t` only with a
///   suffix) followed by nothing, `b`, `bs`, `bps`, `bit` or `bits`, optionally `/s`; also
///   plain `bps`, `bit/s`. `B` counts as bits, not bytes: maps quote line rates, and the Zoo's
///   own `LinkSpeedRaw` reads "1 GB/s" as 10^9 bit/s. So "2.5G", "155 Mbps", "10 Gbit/s",
///   "1 Gb/s", "64 Kbps", "9600 bit/s".
/// - Ethernet: `GE`, `GbE`, `GigE` and `Gigabit` are 1 Gb/s, `FE` 100 Mb/s, with an optional
///   count in front: "1GE", "10GE", "10 GE", "GigE".
/// - Carriers: `OC-n` (also `OCn`, `OC-nc`) is n × 51.84 Mb/s, `STM-n` n × 155.52 Mb/s,
///   `T1`/`DS1` 1.544 Mb/s, `E1` 2.048 Mb/s, `E3` 34.368 Mb/s, `T3`/`DS3` 44.736 Mb/s.
/// - A whole-number count with `x` or `*` multiplies a speed on either side: "2x10Gb/s",
///   "4*2 Mbps", "8*GbE", "STM-64x2", "10GEx4" (= 40 Gb/s, four bundled 10GE).
/// - Several speeds in one label must agree within 5 %, and the first is returned:
///   "45 Mbps DS-3" is 45 Mb/s, "OC192/STM64" 9953.28 Mb/s.
/// - `None` for everything else: no speed ("Red Link", "Dark Fibre", "Lambda", "WANPHY"),
///   speeds that disagree ("155Mbs/1Gbps", "GigE/FE/ATM"), ranges and alternatives ("1-20Gbps",
///   "34/45 Mbit/s", "10 to 40 Gbps"), bounds ("<10 Gbps", "less than 100 Mbps", "100 Mbps
///   and more", "OC3 and below"), counts that are not numbers ("N*10Gbit/s"), and speeds that
///   are zero or do not fit in a `u64`.
///
/// Words that merely contain digits ("TAT-14", "SeaMeWe-3", "JGN2") are not speeds.
pub fn parse_link_speed(label: &str) -> Option<u64> {
    let lower = label.to_ascii_lowercase();
    let toks = tokenize(&lower);
    if toks.iter().any(is_bound) || has_range(&toks) {
        return None;
    }
    let mut speeds: Vec<f64> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match speed_at(&toks, i) {
            Scan::Speed(bps, next) => {
                speeds.push(bps);
                i = next;
            }
            Scan::Ambiguous => return None,
            Scan::Nothing => i += 1,
        }
    }
    let first = *speeds.first()?;
    let agree = speeds
        .iter()
        .all(|s| (s - first).abs() <= AGREEMENT * s.max(first));
    // 1e19 is below u64::MAX (about 1.8e19), so the cast below cannot saturate.
    (agree && first.is_finite() && (1.0..1e19).contains(&first)).then(|| first.round() as u64)
}

enum Scan {
    /// A speed in bits per second, and the index of the first token after it.
    Speed(f64, usize),
    /// A multiplication whose count is not a number: the label has no single speed.
    Ambiguous,
    Nothing,
}

/// Reads the speed starting at token `i`, with any count multiplying it.
fn speed_at(toks: &[Tok<'_>], i: usize) -> Scan {
    // A count in front: "2x10Gb/s", "8*GbE".
    if let (Some(Tok::Num(n)), Some(op), Some((bps, next))) =
        (toks.get(i), toks.get(i + 1), single_at(toks, i + 2))
        && is_times(op)
    {
        return match count(*n) {
            Some(n) => Scan::Speed(n * bps, next),
            None => Scan::Ambiguous,
        };
    }
    let Some((bps, next)) = single_at(toks, i) else {
        return Scan::Nothing;
    };
    if i > 0 && toks.get(i - 1).is_some_and(is_times) {
        // "N*10Gbit/s": something that is not a number multiplies the speed.
        return Scan::Ambiguous;
    }
    if !toks.get(next).is_some_and(is_times) {
        return Scan::Speed(bps, next);
    }
    // A count behind: "STM-64x2", "10GEx4"; a number followed by a unit is a second speed,
    // not a count, and leaves the `x` unexplained.
    match (toks.get(next + 1), toks.get(next + 2)) {
        (Some(Tok::Num(n)), after) if after.is_none_or(|t| unit_bps(t).is_none()) => {
            match count(*n) {
                Some(n) => Scan::Speed(n * bps, next + 2),
                None => Scan::Ambiguous,
            }
        }
        _ => Scan::Ambiguous,
    }
}

/// Reads one speed without counts at token `i`.
fn single_at(toks: &[Tok<'_>], i: usize) -> Option<(f64, usize)> {
    match (toks.get(i)?, toks.get(i + 1)) {
        (Tok::Num(n), Some(unit)) => {
            let bps = unit_bps(unit)?;
            Some((n * bps, skip_per_second(toks, i + 2)))
        }
        (Tok::Word(w), _) => {
            if let Some(bps) = ethernet_bps(w) {
                return Some((bps, i + 1));
            }
            // A carrier: a name, an optional dash and a number ("OC-192c", "STM64", "DS-3").
            let mut j = i + 1;
            if toks.get(j) == Some(&Tok::Sym('-')) {
                j += 1;
            }
            let Some(Tok::Num(n)) = toks.get(j) else {
                return None;
            };
            let bps = match (*w, *n) {
                ("oc", n) => count(n)? * OC1_BPS,
                ("stm", n) => count(n)? * STM1_BPS,
                ("t" | "ds", 1.0) => 1.544e6,
                ("t" | "ds", 3.0) => 44.736e6,
                ("e", 1.0) => 2.048e6,
                ("e", 3.0) => 34.368e6,
                _ => return None,
            };
            // The `c` of a concatenated SONET payload ("OC-192c") names the same rate.
            let next = if *w == "oc" && toks.get(j + 1) == Some(&Tok::Word("c")) {
                j + 2
            } else {
                j + 1
            };
            Some((bps, next))
        }
        _ => None,
    }
}

/// Bits per second of one unit word that follows a number.
fn unit_bps(tok: &Tok<'_>) -> Option<f64> {
    let Tok::Word(w) = tok else { return None };
    if let Some(bps) = ethernet_bps(w) {
        return Some(bps);
    }
    let (scale, suffix) = match w.as_bytes().first()? {
        b'k' => (1e3, &w[1..]),
        b'm' => (1e6, &w[1..]),
        b'g' => (1e9, &w[1..]),
        // A bare `t` would read "T1" as a number and a unit, so terabits need a suffix.
        b't' if w.len() > 1 => (1e12, &w[1..]),
        _ => (1.0, *w),
    };
    let suffixes: &[&str] = if scale == 1.0 {
        &["b", "bps", "bit", "bits"]
    } else {
        // "pbs" is a typo for "bps" seen in the Zoo ("40Mpbs").
        &["", "b", "bs", "bps", "pbs", "bit", "bits"]
    };
    suffixes.contains(&suffix).then_some(scale)
}

fn ethernet_bps(word: &str) -> Option<f64> {
    match word {
        "ge" | "gbe" | "gige" | "gigabit" => Some(1e9),
        "fe" => Some(1e8),
        _ => None,
    }
}

/// Skips the `/s` or `/sec` of "Gbit/s".
fn skip_per_second(toks: &[Tok<'_>], i: usize) -> usize {
    match (toks.get(i), toks.get(i + 1)) {
        (Some(Tok::Sym('/')), Some(Tok::Word("s" | "sec"))) => i + 2,
        _ => i,
    }
}

/// A multiplication count must be a whole number of links.
fn count(n: f64) -> Option<f64> {
    (n >= 1.0 && n.fract() == 0.0).then_some(n)
}

fn is_times(tok: &Tok<'_>) -> bool {
    matches!(tok, Tok::Sym('*') | Tok::Word("x"))
}

fn is_bound(tok: &Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Sym('<' | '>' | '≤' | '≥')
            | Tok::Word(
                "less" | "below" | "under" | "above" | "more" | "over" | "max" | "min" | "upto"
            )
    )
}

/// Two numbers joined by `-`, `/` or `to` are a range or a choice, not one speed.
fn has_range(toks: &[Tok<'_>]) -> bool {
    toks.windows(3).any(|w| {
        matches!(
            w,
            [
                Tok::Num(_),
                Tok::Sym('-' | '/') | Tok::Word("to"),
                Tok::Num(_)
            ]
        )
    })
}

/// Splits a lowercased label into numbers, letter runs and single other characters;
/// whitespace only separates.
fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        if b.is_ascii_digit() {
            i = run_end(bytes, i, |c| c.is_ascii_digit());
            if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i = run_end(bytes, i + 1, |c| c.is_ascii_digit());
            }
            // Digits and a dot always parse; a huge number becomes infinity and is refused later.
            if let Ok(n) = text[start..i].parse::<f64>() {
                toks.push(Tok::Num(n));
            }
        } else if b.is_ascii_alphabetic() {
            i = run_end(bytes, i, |c| c.is_ascii_alphabetic());
            let word = &text[start..i];
            // "10GEx4" glues the `x` of a count to the unit before it.
            let glued = word.len() > 1
                && word.ends_with('x')
                && bytes.get(i).is_some_and(u8::is_ascii_digit)
                && unit_bps(&Tok::Word(&word[..word.len() - 1])).is_some();
            if glued {
                toks.push(Tok::Word(&word[..word.len() - 1]));
                toks.push(Tok::Word("x"));
            } else {
                toks.push(Tok::Word(word));
            }
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            if !c.is_whitespace() {
                toks.push(Tok::Sym(c));
            }
        }
    }
    toks
}

fn run_end(bytes: &[u8], mut i: usize, keep: impl Fn(&u8) -> bool) -> usize {
    while bytes.get(i).is_some_and(&keep) {
        i += 1;
    }
    i
}
