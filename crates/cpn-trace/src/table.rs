//! A thin layer over the `csv` crate shared by every importer: the header is read and its
//! columns looked up by name, each row is checked for its number of fields, and every field
//! is converted with an error that carries the line and the column. Rows are read as bytes so
//! that invalid UTF-8 is a field error rather than a reader error without a column.

use std::collections::VecDeque;
use std::io::Read;

use crate::TraceError;

/// Passes bytes through and remembers where lines start, because the csv crate's own
/// `Position::line` (and `byte`) are off after `\r\n` endings and blank lines: a record's
/// reported byte is at or before its first byte, with only line terminators between. A line
/// start is a byte that is not `\r` or `\n` right after one of them; only the starts ahead
/// of the current record are kept, so memory stays bounded by the csv buffer.
struct LineIndex<R> {
    inner: R,
    offset: u64,
    newlines: u64,
    after_terminator: bool,
    starts: VecDeque<(u64, u64)>,
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in buf.get(..n).unwrap_or_default() {
            match b {
                b'\n' => {
                    self.newlines += 1;
                    self.after_terminator = true;
                }
                b'\r' => self.after_terminator = true,
                _ => {
                    if self.after_terminator {
                        self.starts.push_back((self.offset, self.newlines + 1));
                    }
                    self.after_terminator = false;
                }
            }
            self.offset += 1;
        }
        Ok(n)
    }
}

impl<R> LineIndex<R> {
    /// The 1-based line of the record the csv crate placed at `byte`.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.starts.front().is_some_and(|&(at, _)| at < byte) {
            self.starts.pop_front();
        }
        self.starts
            .front()
            .map_or(self.newlines + 1, |&(_, line)| line)
    }
}

/// A CSV file being read row by row.
pub(crate) struct Table<R: Read> {
    origin: String,
    reader: csv::Reader<LineIndex<R>>,
    header: Vec<String>,
    record: csv::ByteRecord,
}

impl<R: Read> Table<R> {
    /// Reads the header line.
    pub(crate) fn open(reader: R, origin: &str) -> Result<Self, TraceError> {
        // Flexible: rows of the wrong length are reported by `next_row` with a line and
        // the missing column's name, which the csv crate's own error does not give.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineIndex {
                inner: reader,
                offset: 0,
                newlines: 0,
                after_terminator: true,
                starts: VecDeque::new(),
            });
        let mut record = csv::ByteRecord::new();
        let found = reader
            .read_byte_record(&mut record)
            .map_err(|e| io_error(origin, e))?;
        if !found {
            return Err(TraceError::Empty {
                origin: origin.to_string(),
            });
        }
        let mut header: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        if let Some(first) = header.first_mut()
            && let Some(rest) = first.strip_prefix('\u{feff}')
        {
            *first = rest.to_string();
        }
        Ok(Table {
            origin: origin.to_string(),
            reader,
            header,
            record,
        })
    }

    /// The header as written, comma-separated, for messages.
    fn header_text(&self) -> String {
        self.header.join(",")
    }

    /// Whether the header names this column.
    pub(crate) fn has_column(&self, name: &str) -> bool {
        self.header.iter().any(|h| h == name)
    }

    /// The index of the column `name`, which the format requires.
    pub(crate) fn column(&self, name: &str) -> Result<usize, TraceError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| TraceError::Field {
                origin: self.origin.clone(),
                line: 1,
                field: "header".to_string(),
                expected: format!("a column named {name}"),
                got: format!("{:?}", self.header_text()),
            })
    }

    /// The next data row, checked to have as many fields as the header.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>, TraceError> {
        let found = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| io_error(&self.origin, e))?;
        if !found {
            return Ok(None);
        }
        let byte = self.record.position().map_or(0, csv::Position::byte);
        let line = self.reader.get_mut().line_at(byte);
        let n = self.record.len();
        if n != self.header.len() {
            let field = self
                .header
                .get(n)
                .map_or_else(|| "row".to_string(), Clone::clone);
            return Err(TraceError::Field {
                origin: self.origin.clone(),
                line,
                field,
                expected: format!("{} fields ({})", self.header.len(), self.header_text()),
                got: format!("{n}"),
            });
        }
        Ok(Some(Row {
            origin: &self.origin,
            header: &self.header,
            record: &self.record,
            line,
        }))
    }
}

fn io_error(origin: &str, e: csv::Error) -> TraceError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    };
    TraceError::Io {
        origin: origin.to_string(),
        source,
    }
}

/// One data row, with what is needed to report a bad field.
pub(crate) struct Row<'a> {
    origin: &'a str,
    header: &'a [String],
    record: &'a csv::ByteRecord,
    pub(crate) line: u64,
}

impl Row<'_> {
    /// An error about column `col` of this row.
    pub(crate) fn error(&self, col: usize, expected: &str, got: &str) -> TraceError {
        TraceError::Field {
            origin: self.origin.to_string(),
            line: self.line,
            field: self.header.get(col).cloned().unwrap_or_default(),
            expected: expected.to_string(),
            got: format!("{got:?}"),
        }
    }

    /// The text of column `col`.
    pub(crate) fn text(&self, col: usize) -> Result<&str, TraceError> {
        let bytes = self.record.get(col).unwrap_or_default();
        std::str::from_utf8(bytes)
            .map_err(|_| self.error(col, "UTF-8 text", &String::from_utf8_lossy(bytes)))
    }

    /// Column `col` as a non-negative integer that fits `T`.
    pub(crate) fn int<T: std::str::FromStr>(
        &self,
        col: usize,
        expected: &str,
    ) -> Result<T, TraceError> {
        let s = self.text(col)?;
        s.parse().map_err(|_| self.error(col, expected, s))
    }

    /// Column `col` as an integer, or `None` when empty.
    pub(crate) fn opt_int<T: std::str::FromStr>(
        &self,
        col: usize,
        expected: &str,
    ) -> Result<Option<T>, TraceError> {
        if self.text(col)?.is_empty() {
            return Ok(None);
        }
        self.int(col, expected).map(Some)
    }

    /// Column `col` as a finite number within `min..=max`.
    pub(crate) fn float(
        &self,
        col: usize,
        min: f64,
        max: f64,
        expected: &str,
    ) -> Result<f64, TraceError> {
        let s = self.text(col)?;
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            _ => Err(self.error(col, expected, s)),
        }
    }

    /// Column `col` as a finite number within `min..=max`, or `None` when empty.
    pub(crate) fn opt_float(
        &self,
        col: usize,
        min: f64,
        max: f64,
        expected: &str,
    ) -> Result<Option<f64>, TraceError> {
        if self.text(col)?.is_empty() {
            return Ok(None);
        }
        self.float(col, min, max, expected).map(Some)
    }

    /// Column `col` as owned text, or `None` when empty.
    pub(crate) fn opt_string(&self, col: usize) -> Result<Option<String>, TraceError> {
        let s = self.text(col)?;
        Ok((!s.is_empty()).then(|| s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of every row, as the importers report it.
    fn lines(input: &str) -> Vec<u64> {
        let mut table = Table::open(input.as_bytes(), "t.csv").expect("header");
        let mut out = Vec::new();
        while let Some(row) = table.next_row().expect("row") {
            out.push(row.line);
        }
        out
    }

    #[test]
    fn lines_count_blank_lines_crlf_and_quoted_newlines() {
        assert_eq!(lines("a,b\n1,2\n3,4\n"), [2, 3]);
        assert_eq!(lines("a,b\r\n1,2\r\n3,4"), [2, 3]);
        assert_eq!(lines("a,b\r\n1,2\r\n\r\n\r\n3,4\r\n"), [2, 5]);
        assert_eq!(lines("a,b\n\n1,2\n\"x\ny\",4\n\n5,6\n"), [3, 4, 7]);
        assert_eq!(lines(",b\n,2\n"), [2]);
    }
}
