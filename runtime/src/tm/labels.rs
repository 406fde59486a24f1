//! Hashing for the maps keyed by cell label. Labels come from the
//! table's own counter, never from a message, so there is no flooding
//! to defend against and SipHash's cost per lookup buys nothing; a
//! multiplicative hash spreads consecutive labels over the buckets.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from cell label to `V`.
pub(crate) type LabelMap<V> = HashMap<u64, V, BuildHasherDefault<LabelHasher>>;

/// Fibonacci hashing of one `u64`.
#[derive(Default)]
pub(crate) struct LabelHasher(u64);

impl Hasher for LabelHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys reach here through `write_u64`; anything else
        // still hashes correctly, byte by byte.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        // hashbrown takes its control bits from the top and its bucket
        // from the bottom: fold the well-mixed high half down.
        self.0 ^ (self.0 >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_labels_spread_over_the_low_bits() {
        let hash = |n: u64| {
            let mut h = LabelHasher::default();
            h.write_u64(n);
            h.finish()
        };
        let buckets: std::collections::HashSet<u64> = (1..=64).map(|n| hash(n) & 63).collect();
        assert!(buckets.len() > 32, "{} buckets", buckets.len());
    }
}
