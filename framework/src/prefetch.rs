//! Software prefetch: starts fetching memory into the near caches without waiting for it.
//!
//! With many conversations the engine's per-conversation state is cold (in DRAM) whenever a
//! message comes to a conversation. A burst's conversations are known up front, so their
//! state is fetched in stages (what the first stage fetched gives the addresses of the next):
//! a prefetch retires at once, so the misses of a whole group are in flight together, where
//! reads that use the data hold up the core's window behind each miss.

/// Bytes of a cache line.
const LINE: usize = 64;

/// Starts fetching the cache line holding `p`. Any address is fine: a prefetch is a hint that
/// neither faults nor changes what the program reads.
#[inline(always)]
pub(crate) fn line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` only hints the cache: it never faults (an invalid or unmapped
    // address is ignored) and has no effect the program can observe but timing.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    // Elsewhere no prefetch: the data is read when it is used.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Starts fetching every cache line of `len` bytes from `p` (none for `len == 0`).
#[inline(always)]
pub(crate) fn bytes(p: *const u8, len: usize) {
    let offset = p as usize % LINE;
    let first = p.wrapping_sub(offset);
    for i in 0..lines(offset, len) {
        line(first.wrapping_add(i * LINE));
    }
}

/// How many cache lines `len` bytes span that start `offset` bytes into a line.
#[inline(always)]
fn lines(offset: usize, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (offset + len).div_ceil(LINE)
    }
}

/// Starts fetching the cache lines of `value`.
#[inline(always)]
pub(crate) fn value<T>(value: &T) {
    bytes(
        std::ptr::from_ref(value).cast::<u8>(),
        std::mem::size_of::<T>(),
    );
}

/// Starts fetching a text held in a shared allocation (`Arc<str>`, or a `SharedStr`'s shared
/// form) with its reference counts, which sit just before it: a clone or drop updates them.
/// For a text held in place the lines are the holder's own (fetched with it).
#[inline(always)]
pub(crate) fn shared_text(text: &str) {
    // An `Arc`'s strong and weak counts precede its value.
    const COUNTS: usize = 2 * std::mem::size_of::<usize>();
    bytes(text.as_ptr().wrapping_sub(COUNTS), text.len() + COUNTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_covers_the_lines_of_its_first_and_last_byte() {
        assert_eq!(lines(0, 0), 0);
        assert_eq!(lines(63, 0), 0);
        assert_eq!(lines(0, 1), 1);
        assert_eq!(lines(0, 64), 1);
        assert_eq!(lines(1, 64), 2);
        assert_eq!(lines(63, 2), 2);
        assert_eq!(lines(0, 192), 3);
        assert_eq!(lines(32, 192), 4);
        // Any address and length is fine to prefetch (nothing is read).
        let row = [7u8; 300];
        bytes(row.as_ptr(), row.len());
        bytes(std::ptr::null(), 1000);
        value(&row);
        shared_text("a text longer than fifteen bytes");
        shared_text("");
        assert_eq!(row[299], 7);
    }
}
