//! Primitives of the store's compact binary rows (conversation rows, group member rows):
//! LEB128 varints, zigzag for signed numbers, and raw byte runs. Each row format decides its
//! own layout on top of these; malformed input is an error, never a panic.

/// Appends `v` as an LEB128 varint.
pub(crate) fn put_uint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded, so small negative numbers stay short.
pub(crate) fn put_int(out: &mut Vec<u8>, v: i64) {
    put_uint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads a row front to back; every method fails with a short reason on malformed input.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Reads `row` from its first byte.
    pub(crate) fn new(row: &'a [u8]) -> Self {
        Self(row)
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn byte(&mut self) -> Result<u8, &'static str> {
        let (&b, rest) = self.0.split_first().ok_or("truncated")?;
        self.0 = rest;
        Ok(b)
    }

    pub(crate) fn uint(&mut self) -> Result<u64, &'static str> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long")
    }

    pub(crate) fn int(&mut self) -> Result<i64, &'static str> {
        let v = self.uint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub(crate) fn int32(&mut self) -> Result<i32, &'static str> {
        i32::try_from(self.int()?).map_err(|_| "number out of range")
    }

    /// How many bytes are left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.0.len()
    }

    /// Passes over the next `len` bytes.
    pub(crate) fn skip(&mut self, len: u64) -> Result<(), &'static str> {
        let len = usize::try_from(len).map_err(|_| "length out of range")?;
        self.0 = self.0.get(len..).ok_or("truncated")?;
        Ok(())
    }

    /// The next `len` bytes as UTF-8.
    pub(crate) fn str(&mut self, len: u64) -> Result<&'a str, &'static str> {
        let len = usize::try_from(len).map_err(|_| "length out of range")?;
        if len > self.0.len() {
            return Err("truncated");
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(s).map_err(|_| "not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_bad_input_is_an_error() {
        let mut out = Vec::new();
        for v in [0, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            put_int(&mut out, v);
        }
        put_uint(&mut out, u64::MAX);
        out.extend_from_slice(b"ok");
        let mut r = Reader::new(&out);
        for v in [0, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(r.int(), Ok(v));
        }
        assert_eq!(r.uint(), Ok(u64::MAX));
        assert_eq!(r.str(2), Ok("ok"));
        assert!(r.is_empty());
        assert_eq!(r.byte(), Err("truncated"));
        assert_eq!(Reader::new(&[0xff; 11]).uint(), Err("varint too long"));
        assert_eq!(Reader::new(&[1, 2]).str(3), Err("truncated"));
        assert_eq!(Reader::new(&[0xff]).str(1), Err("not UTF-8"));
        let mut big = Vec::new();
        put_int(&mut big, i64::from(i32::MAX) + 1);
        assert_eq!(Reader::new(&big).int32(), Err("number out of range"));
    }
}
