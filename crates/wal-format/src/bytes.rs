//! The ground floor: [`Decoded`], the outcome of decoding bytes that were
//! not wrong, and little-endian integers read out of byte slices without
//! panicking. Every other module builds on these; none of them is imported
//! here.

/// The outcome of decoding bytes that were not wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole, valid item.
    Complete(T),
    /// The bytes are a strict prefix of what could be a valid item.
    Incomplete {
        /// How many more bytes are needed at least.
        needed: usize,
    },
}

/// The `N` bytes at `offset`, if all of them are present.
#[inline]
pub(crate) fn read_array<const N: usize>(buf: &[u8], offset: usize) -> Option<[u8; N]> {
    let bytes = buf.get(offset..offset.checked_add(N)?)?;
    bytes.try_into().ok()
}

/// Reads a little-endian `u32` at `offset`, if all four bytes are present.
#[inline]
pub(crate) fn read_u32(buf: &[u8], offset: usize) -> Option<u32> {
    read_array(buf, offset).map(u32::from_le_bytes)
}

/// Reads a little-endian `u64` at `offset`, if all eight bytes are present.
#[inline]
pub(crate) fn read_u64(buf: &[u8], offset: usize) -> Option<u64> {
    read_array(buf, offset).map(u64::from_le_bytes)
}

/// Reads a little-endian three-byte unsigned integer at `offset`, if all
/// three bytes are present.
#[inline]
pub(crate) fn read_u24(buf: &[u8], offset: usize) -> Option<u32> {
    let [a, b, c] = read_array(buf, offset)?;
    Some(u32::from_le_bytes([a, b, c, 0]))
}

/// Copies `bytes` over `buf` at `offset`; `None`, changing nothing, when
/// `buf` is too short.
#[inline]
pub(crate) fn write_at(buf: &mut [u8], offset: usize, bytes: &[u8]) -> Option<()> {
    buf.get_mut(offset..offset.checked_add(bytes.len())?)?
        .copy_from_slice(bytes);
    Some(())
}

/// A stored `u32` length as a `usize`: it fits on every target this crate
/// supports (`usize` of 32 bits or more), the one place that assumption is
/// made.
#[inline]
pub(crate) const fn usize_from(len: u32) -> usize {
    len as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_never_past_the_end() {
        let buf = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(read_u32(&buf, 0), Some(0x0403_0201));
        assert_eq!(read_u32(&buf, 5), Some(0x0908_0706));
        assert_eq!(read_u32(&buf, 6), None);
        assert_eq!(read_u64(&buf, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(read_u64(&buf, 2), None);
        assert_eq!(read_u24(&buf, 6), Some(0x09_0807));
        assert_eq!(read_u24(&buf, 7), None);
        assert_eq!(read_u32(&buf, usize::MAX), None);
    }

    #[test]
    fn writes_only_what_fits() {
        let mut buf = [0; 4];
        assert_eq!(write_at(&mut buf, 1, &[7, 8]), Some(()));
        assert_eq!(buf, [0, 7, 8, 0]);
        assert_eq!(write_at(&mut buf, 3, &[9, 9]), None);
        assert_eq!(write_at(&mut buf, usize::MAX, &[9]), None);
        assert_eq!(buf, [0, 7, 8, 0]);
    }
}
