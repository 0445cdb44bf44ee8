//! The one source of randomness in pricehound: the operating system's
//! generator, through `getrandom` (a thin wrapper over the `getrandom`
//! system call; no I/O crate, no runtime).
//!
//! Used for alert ids ([`crate::domain::user::AlertId::random`]), the part
//! of a DynamoDB usage event's sort key that keeps two events of one user in
//! one millisecond apart, and the fetcher's retry jitter. None of them is a
//! secret, but they must differ between processes and calls, which a
//! hand-rolled generator (a hasher over a counter and the clock) only
//! approximates; the OS generator is simply right and costs one system
//! call.
//!
//! The OS generator does not fail on the systems pricehound runs on (Linux
//! after early boot); if it ever did, these functions panic, as std's
//! `HashMap` seeding, which the hand-rolled generators relied on, already
//! did.

/// Fills `bytes` from the OS's random generator.
pub fn fill(bytes: &mut [u8]) {
    getrandom::fill(bytes).expect("the OS random generator is available");
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// A random `u64`.
pub fn next_u64() -> u64 {
    u64::from_le_bytes(bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_differ_between_calls() {
        assert_ne!(next_u64(), next_u64());
        assert_ne!(bytes::<16>(), bytes::<16>());
        // Every byte value shows up: it is not a few bits spread out.
        let mut seen = [false; 256];
        for b in bytes::<4096>() {
            seen[b as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
