//! The primitives of the canonical binary encoding: fixed-width big-endian integers, 32-byte
//! keys and hashes, and UTF-8 text behind a 16-bit length. The reader is strict: it never
//! reads past the end, names the field and byte offset of what is wrong, and its callers
//! reject trailing bytes, so that every value has exactly one encoding.

/// Why bytes do not decode. Offsets count from the start of the record being decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated: {field} at byte {offset} needs {need} bytes, {have} left")]
    Truncated {
        field: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("{extra} trailing bytes after the end of the record at byte {offset}")]
    Trailing { offset: usize, extra: usize },
    #[error("unknown version {version} at byte {offset}")]
    UnknownVersion { offset: usize, version: u8 },
    #[error("unknown entry kind {kind} at byte {offset}")]
    UnknownKind { offset: usize, kind: u8 },
    #[error("{field} at byte {offset}: {problem}")]
    Invalid {
        field: &'static str,
        offset: usize,
        problem: &'static str,
    },
}

/// Appends fields to a buffer in the canonical encoding.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Text behind a big-endian u16 byte length. Callers keep text within its field's
    /// maximum (checked when the value is built or decoded), far below `u16::MAX`.
    pub(crate) fn text(&mut self, v: &str) {
        let len = u16::try_from(v.len()).unwrap_or(u16::MAX);
        self.u16(len);
        self.buf
            .extend_from_slice(v.as_bytes().get(..usize::from(len)).unwrap_or_default());
    }
}

/// Reads fields from a record, never past its end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        let have = self.remaining();
        if n > have {
            return Err(DecodeError::Truncated {
                field,
                offset: self.pos,
                need: n,
                have,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn bytes32(&mut self, field: &'static str) -> Result<[u8; 32], DecodeError> {
        self.array(field)
    }

    pub(crate) fn bytes64(&mut self, field: &'static str) -> Result<[u8; 64], DecodeError> {
        self.array(field)
    }

    /// UTF-8 text of at most `max` bytes behind a u16 length.
    pub(crate) fn text(&mut self, field: &'static str, max: usize) -> Result<String, DecodeError> {
        let offset = self.pos;
        let len = usize::from(self.u16(field)?);
        if len > max {
            return Err(self.invalid_at(field, offset, "longer than its maximum"));
        }
        let raw = self.take(field, len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| self.invalid_at(field, offset, "not valid UTF-8"))
    }

    pub(crate) fn invalid_at(
        &self,
        field: &'static str,
        offset: usize,
        problem: &'static str,
    ) -> DecodeError {
        DecodeError::Invalid {
            field,
            offset,
            problem,
        }
    }

    /// Fails unless every byte was read: trailing bytes would give a value two encodings.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                offset: self.pos,
                extra: self.remaining(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn integers_are_big_endian_and_round_trip() {
        let mut w = Writer::default();
        w.u8(1);
        w.u16(0x0203);
        w.u32(0x0405_0607);
        w.u64(0x0809_0a0b_0c0d_0e0f);
        w.text("é");
        assert_eq!(
            w.buf,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 2, 0xc3, 0xa9
            ]
        );
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.u16("b"), Ok(0x0203));
        assert_eq!(r.u32("c"), Ok(0x0405_0607));
        assert_eq!(r.u64("d"), Ok(0x0809_0a0b_0c0d_0e0f));
        assert_eq!(r.text("e", 10).as_deref(), Ok("é"));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn reader_refuses_short_long_and_bad_text() {
        assert!(matches!(
            Reader::new(&[0, 0, 0]).u32("x"),
            Err(DecodeError::Truncated {
                need: 4,
                have: 3,
                ..
            })
        ));
        assert!(matches!(
            Reader::new(&[0, 2, 0xff, 0xfe]).text("t", 10),
            Err(DecodeError::Invalid {
                problem: "not valid UTF-8",
                ..
            })
        ));
        assert!(matches!(
            Reader::new(&[0, 3, b'a', b'b', b'c']).text("t", 2),
            Err(DecodeError::Invalid { .. })
        ));
        let mut r = Reader::new(&[1, 2]);
        r.u8("x").unwrap();
        assert_eq!(
            r.finish(),
            Err(DecodeError::Trailing {
                offset: 1,
                extra: 1
            })
        );
    }
}
