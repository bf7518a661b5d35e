//! Errors in scenario files. Each names the file, line and column, the element and what is
//! wrong, in the form editors and terminals recognise: `national.toml:12:7: link
//! `beijing-atlantis`: unknown router `atlantis``.

use std::fmt;

/// One thing wrong with a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `national` for the built-in scenario) the text came from.
    pub origin: String,
    /// 1-based line and column (in characters) of the offending value.
    pub line: u32,
    pub column: u32,
    /// The element the error is about (`router `beijing``), when there is one.
    pub element: Option<String>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if let Some(element) = &self.element {
            write!(f, "{element}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Everything wrong with a scenario, in the order it appears in the file. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

/// Turns byte offsets into 1-based line and column numbers.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = self.line_starts[line - 1];
        // Columns count characters, not bytes, so that `广州` moves the column by two.
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (to_u32(line), to_u32(column))
    }
}

/// Names the element an offset falls in, for errors found by the TOML reader itself (a
/// missing or unknown field, a value of the wrong type), which know the position but not the
/// element: the `[[kind]]` table around the offset, by its `id`, by its ends for a link, or by
/// its number among the tables of its kind.
pub(crate) fn element_at(text: &str, offset: usize) -> Option<String> {
    // The TOML reader may point at the `[[` of the table itself: include it.
    let end = (offset + 2).min(text.len());
    let before = text
        .get(..end)
        .or_else(|| text.get(..offset.min(text.len())))?;
    // Before the first table, the element is the scenario's top level.
    let Some(header_at) = before.rfind("[[") else {
        return Some("top level".to_string());
    };
    // The header must start its line, or it is inside a string.
    if !before[..header_at].trim_end_matches([' ', '\t']).is_empty()
        && !before[..header_at].ends_with('\n')
    {
        return None;
    }
    let line_end = text[header_at..]
        .find('\n')
        .map_or(text.len(), |i| header_at + i);
    let kind = table_kind(&text[header_at..line_end])?;
    let ordinal = text[..line_end]
        .lines()
        .filter(|l| table_kind(l) == Some(kind))
        .count();
    let mut fields = std::collections::HashMap::new();
    for line in text[line_end..].lines().skip(1) {
        let line = line.trim();
        if line.starts_with('[') {
            break;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim();
            if let Some(v) = value.strip_prefix('"').and_then(|v| v.split('"').next()) {
                fields.insert(key.trim().to_string(), v.to_string());
            }
        }
    }
    Some(match (fields.get("id"), fields.get("a"), fields.get("b")) {
        (Some(id), _, _) => format!("{kind} `{id}`"),
        (None, Some(a), Some(b)) if kind == "link" => format!("link `{a}-{b}`"),
        _ => format!("{kind} #{ordinal}"),
    })
}

/// `link` for a `[[link]]` header line.
fn table_kind(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix("[[")?;
    inner.split("]]").next().map(str::trim)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let index = LineIndex::new("ab\n广州 = 1\n\nx");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(1), (1, 2));
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(9), (2, 3));
        assert_eq!(index.position(14), (3, 1));
        assert_eq!(index.position(15), (4, 1));
        assert_eq!(index.position(999), (4, 2));
    }
}
