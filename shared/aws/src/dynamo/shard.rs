//! Write sharding: the records that would otherwise share one partition key
//! (every item's latest price, every user profile, every tracked page, a
//! day's usage events) are spread over [`SHARDS`] partitions, `<name>#00` to
//! `<name>#15`, the shard picked by a stable hash of the record's id. Readers
//! query every shard and merge (`scatter.rs`), so what they return is what
//! the one partition returned.
//!
//! Why 16 (the arithmetic is in `docs/scale.md`): the hottest of these
//! partitions, the latest prices' index partition, takes about 380 writes a
//! second at a million items read hourly, 24 per shard (2.4 % of a
//! partition's 1,000 WCU), and 142 per shard (14 %) when a whole catalogue
//! is read in ten minutes instead of an hour; a viral burst of 1,700 bot
//! contacts a second puts 210 on each `USERS` shard. Fewer shards leave
//! those bursts at a quarter to half of the limit or past it; more shards
//! buy headroom nobody needs and cost every read one more query (billed at
//! least half a read unit, and a page is as slow as its slowest shard):
//! 16 queries are one round of requests.
//!
//! Why this hash: the shard is part of a stored key, so every writer and
//! reader, in every process and every future build, must compute the same
//! one. Rust's `std` hasher is seeded at random per process (`RandomState`)
//! and its algorithm is not promised to stay the same across releases, so
//! it cannot be used. FNV-1a (64 bit) is specified, a few lines and
//! `const`, but alone it spreads short ids badly: its low bits depend only
//! on the low bits of each byte (`a` and `q` differ only above bit 3), and
//! its high bits barely move for one- or two-character ids (`"1"` to `"9"`
//! all land in one or two of 16 shards). So the FNV-1a value goes through
//! MurmurHash3's 64-bit finalizer (`fmix64`, two multiply-xorshift rounds,
//! also specified and `const`), after which every output bit depends on
//! every input bit, and the shard is taken from the high bits
//! (multiply-shift). The test below checks the spread on random, numbered,
//! numeric and low-bit-twin ids. Nothing is keyed: ids come from sources,
//! Telegram and URL hashes, and a user can pile at most the tracked-page cap
//! into one shard, far below a partition's limits.

/// How many partitions each sharded record kind is spread over. Fixed: it is
/// part of the stored keys, so changing it means re-keying the records.
pub const SHARDS: u32 = 16;

/// How many shard queries one read runs at once: all of them, so a page
/// is one round of requests, but never more whatever `SHARDS` becomes.
pub(super) const SHARD_CONCURRENCY: usize = 16;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bit, of `bytes`.
pub(super) const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// MurmurHash3's 64-bit finalizer: spreads every input bit over every
/// output bit (FNV-1a alone leaves short inputs' high bits alike).
pub(super) const fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The shard (`0..SHARDS`) of the record with id `id`: the high bits of
/// its mixed hash, scaled into the range (multiply-shift), so the result is
/// below `SHARDS` for every input.
pub const fn shard_of(id: &str) -> u32 {
    let hash = fmix64(fnv1a64(id.as_bytes()));
    ((hash as u128 * SHARDS as u128) >> 64) as u32
}

/// The key of shard `shard` of the partition family `name`: `LATEST#07`.
/// Two digits, so every shard key has the same length.
pub(super) fn shard_key(name: &str, shard: u32) -> String {
    format!("{name}#{shard:02}")
}

/// The key of the shard that holds the record with id `id`.
pub(super) fn key_for(name: &str, id: &str) -> String {
    shard_key(name, shard_of(id))
}

/// Every shard key of `name`, in shard order.
pub(super) fn all_keys(name: &str) -> impl Iterator<Item = String> + '_ {
    (0..SHARDS).map(move |shard| shard_key(name, shard))
}

const _: () = assert!(SHARDS > 0 && SHARDS <= 100, "two-digit shard keys");

#[cfg(test)]
mod tests {
    use super::*;

    /// The published FNV-1a 64 test vectors: the hash is the specified one,
    /// not something that merely looks stable.
    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        // fmix64 is a bijection with 0 as a fixed point.
        assert_eq!(fmix64(0), 0);
        assert_ne!(fmix64(1), 1);
    }

    /// Stored keys depend on these values: a change here strands every
    /// record written before it. Do not update the expectations; re-key the
    /// table instead (and change `SHARDS` only the same way).
    #[test]
    fn shards_are_pinned() {
        let pinned = [
            ("tg-zoloto-alger:gold-18k", 13),
            ("shop:gpu", 6),
            ("42", 8),
            ("1", 7),
            ("page-3f9a", 15),
            ("", 14),
        ];
        let got: Vec<(&str, u32)> = pinned.iter().map(|(id, _)| (*id, shard_of(id))).collect();
        assert_eq!(got, pinned);
        // And at compile time, as the keys are built.
        const { assert!(shard_of("shop:gpu") == 6) };
        assert_eq!(key_for("LATEST", "shop:gpu"), "LATEST#06");
    }

    #[test]
    fn shard_keys_are_two_digits_in_order() {
        let keys: Vec<String> = all_keys("USERS").collect();
        assert_eq!(keys.len(), SHARDS as usize);
        assert_eq!(keys[0], "USERS#00");
        assert_eq!(keys[15], "USERS#15");
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    /// xorshift64*: a fixed generator, so the property check is the same
    /// on every run (no dependency needed for it).
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// An id of 1 to 40 characters from the ids' alphabet.
        fn id(&mut self) -> String {
            const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.:";
            let len = 1 + (self.next() % 40) as usize;
            (0..len)
                .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize] as char)
                .collect()
        }
    }

    /// Every id lands in range, and ids of every shape spread evenly: random
    /// ids, numbered ids of one source (`shop:item-1`, `-2`, …), Telegram
    /// user ids in a row, and ids that differ only in letters sharing their
    /// low bits (`a`/`q`, the weakness of FNV's low bits).
    #[test]
    fn shards_are_in_range_and_even_for_every_id_shape() {
        fn check(kind: &str, ids: impl Iterator<Item = String>) {
            let mut counts = [0u32; SHARDS as usize];
            let mut total = 0u32;
            for id in ids {
                let shard = shard_of(&id);
                assert!(shard < SHARDS, "{id:?} -> {shard}");
                counts[shard as usize] += 1;
                total += 1;
            }
            let mean = f64::from(total) / f64::from(SHARDS);
            for (shard, &count) in counts.iter().enumerate() {
                let off = (f64::from(count) - mean).abs() / mean;
                assert!(
                    off < 0.1,
                    "{kind}: shard {shard} has {count}, mean {mean:.0}: {counts:?}"
                );
            }
        }
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        check("random", (0..64_000).map(|_| g.id()));
        check("numbered", (0..64_000).map(|n| format!("shop:item-{n}")));
        check("users", (0..64_000).map(|n| (100_000_000 + n).to_string()));
        let letters = ["a", "q"];
        check(
            "low-nibble twins",
            (0..64_000).map(|n| {
                let bits: String = (0..16).map(|b| letters[(n >> b) & 1]).collect();
                format!("src:{bits}")
            }),
        );
    }
}
