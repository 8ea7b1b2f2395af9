//! Deterministic pseudo-random numbers (xorshift) for the model tests: a failing seed replays.

/// A xorshift64 generator; seed it with a non-zero value.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed`, spread over the 64 bits (never zero).
    pub(crate) fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
