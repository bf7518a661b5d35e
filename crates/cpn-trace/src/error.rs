//! The one error type of the importers. Every message names the file, and for a bad row the
//! line, the column and what was expected, so that a user can open the file at that line.

use thiserror::Error;

/// Why a trace or site file could not be read. The importers stop at the first bad row.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("{origin}: cannot read: {source}")]
    Io {
        origin: String,
        source: std::io::Error,
    },
    /// The file has no header line.
    #[error("{origin}: empty file, expected a header line")]
    Empty { origin: String },
    /// A field (or the header, or a row's shape) is not what the format says.
    #[error("{origin}:{line}: {field}: expected {expected}, got {got}")]
    Field {
        origin: String,
        /// 1-based line number in the file; the header is line 1.
        line: u64,
        /// The column's name as in the header, or `header` or `row`.
        field: String,
        expected: String,
        /// What was found, ready to print (values are quoted).
        got: String,
    },
}

impl TraceError {
    /// The 1-based line of a bad row or header, if the error is about one.
    pub fn line(&self) -> Option<u64> {
        match self {
            TraceError::Field { line, .. } => Some(*line),
            TraceError::Io { .. } | TraceError::Empty { .. } => None,
        }
    }
}
