//! Arc lists as CSV, the exchange format of the shortest-path benchmark: a header line
//! `src,dst,weight`, then one line per directed arc with three unsigned integers, node ids
//! from 0. Any tool reads it (numpy, pandas, a spreadsheet), which is the point: cpn and its
//! peers time searches on the very same file.
//!
//! Reading takes the file's bytes and writing goes to a sink the caller opens, so this module
//! does no I/O of its own.

use std::io::Write;

use crate::graph::ArcSpec;

/// The first line of every arc CSV file.
pub const ARC_CSV_HEADER: &str = "src,dst,weight";

/// The arcs of a CSV file and the node count they imply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcList {
    /// One more than the largest node id named (0 without arcs).
    pub nodes: u32,
    pub arcs: Vec<ArcSpec>,
}

/// A line of an arc CSV file that is not what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ArcCsvError {
    /// From 1.
    pub line: usize,
    pub problem: CsvProblem,
}

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvProblem {
    #[error("expected the header `{ARC_CSV_HEADER}`, found `{found}`")]
    Header { found: String },
    #[error("expected three fields `{ARC_CSV_HEADER}`, found {found} in `{text}`")]
    FieldCount { found: usize, text: String },
    #[error("expected `{field}` to be an integer from 0 to {max}, found `{found}`")]
    NotInteger {
        field: &'static str,
        max: u32,
        found: String,
    },
}

/// Writes `arcs` as CSV, header first.
pub fn write_arc_csv(
    mut out: impl Write,
    arcs: impl IntoIterator<Item = ArcSpec>,
) -> std::io::Result<()> {
    writeln!(out, "{ARC_CSV_HEADER}")?;
    for (from, to, weight) in arcs {
        writeln!(out, "{from},{to},{weight}")?;
    }
    out.flush()
}

/// Reads an arc CSV file. A `\r` before a line end is accepted and blank lines are skipped;
/// anything else that is not three unsigned integers is an error naming the line.
pub fn parse_arc_csv(bytes: &[u8]) -> Result<ArcList, ArcCsvError> {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, header)) if header == ARC_CSV_HEADER.as_bytes() => {}
        found => {
            return Err(ArcCsvError {
                line: 1,
                problem: CsvProblem::Header {
                    found: shown(found.map_or(&[][..], |(_, l)| l)),
                },
            });
        }
    }
    // A line of a typical file is 10 to 20 bytes; reserving avoids regrowing a large vector.
    let mut arcs = Vec::with_capacity(bytes.len() / 12);
    let mut largest = None;
    for (line, text) in lines {
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let error = |problem| ArcCsvError { line, problem };
        let mut fields = text.split(|&b| b == b',');
        let (Some(src), Some(dst), Some(weight), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(error(CsvProblem::FieldCount {
                found: text.split(|&b| b == b',').count(),
                text: shown(text),
            }));
        };
        // The largest id is kept below u32::MAX so that the node count fits a u32.
        let src = integer(src, "src", u32::MAX - 1).map_err(error)?;
        let dst = integer(dst, "dst", u32::MAX - 1).map_err(error)?;
        let weight = integer(weight, "weight", u32::MAX).map_err(error)?;
        largest = largest.max(Some(src.max(dst)));
        arcs.push((src, dst, weight));
    }
    Ok(ArcList {
        nodes: largest.map_or(0, |n| n + 1),
        arcs,
    })
}

fn integer(text: &[u8], field: &'static str, max: u32) -> Result<u32, CsvProblem> {
    let bad = || CsvProblem::NotInteger {
        field,
        max,
        found: shown(text),
    };
    if text.is_empty() || text.len() > 10 {
        return Err(bad());
    }
    let mut value = 0u64;
    for &b in text {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        value = value * 10 + u64::from(b - b'0');
    }
    u32::try_from(value)
        .ok()
        .filter(|&v| v <= max)
        .ok_or_else(bad)
}

/// A line as text for an error message, cut short if long.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let arcs = vec![(0, 1, 5), (1, 0, 0), (4, 2, u32::MAX)];
        let mut out = Vec::new();
        write_arc_csv(&mut out, arcs.clone()).expect("in memory");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "src,dst,weight\n0,1,5\n1,0,0\n4,2,4294967295\n"
        );
        assert_eq!(parse_arc_csv(&out), Ok(ArcList { nodes: 5, arcs }));
        let crlf = b"src,dst,weight\r\n0,3,1\r\n\r\n";
        assert_eq!(
            parse_arc_csv(crlf),
            Ok(ArcList {
                nodes: 4,
                arcs: vec![(0, 3, 1)]
            })
        );
        assert_eq!(
            parse_arc_csv(b"src,dst,weight\n"),
            Ok(ArcList {
                nodes: 0,
                arcs: vec![]
            })
        );
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"",
                "line 1: expected the header `src,dst,weight`, found ``",
            ),
            (
                b"a,b,c\n",
                "line 1: expected the header `src,dst,weight`, found `a,b,c`",
            ),
            (
                b"src,dst,weight\n0,1,2\n0,1\n",
                "line 3: expected three fields `src,dst,weight`, found 2 in `0,1`",
            ),
            (
                b"src,dst,weight\n0,1,2,3\n",
                "line 2: expected three fields `src,dst,weight`, found 4 in `0,1,2,3`",
            ),
            (
                b"src,dst,weight\n0,x,2\n",
                "line 2: expected `dst` to be an integer from 0 to 4294967294, found `x`",
            ),
            (
                b"src,dst,weight\n0,1,-2\n",
                "line 2: expected `weight` to be an integer from 0 to 4294967295, found `-2`",
            ),
            (
                b"src,dst,weight\n4294967295,1,2\n",
                "line 2: expected `src` to be an integer from 0 to 4294967294, found `4294967295`",
            ),
            (
                b"src,dst,weight\n0,1,99999999999\n",
                "line 2: expected `weight` to be an integer from 0 to 4294967295, found `99999999999`",
            ),
        ];
        for (input, message) in cases {
            let e = parse_arc_csv(input).expect_err("invalid");
            assert_eq!(e.to_string(), *message);
        }
    }
}
