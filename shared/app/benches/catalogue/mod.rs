//! The search benchmarks' synthetic catalogue (brand, model, flavour words
//! and a number; the same names every run, so sizes overlap realistically),
//! their query mix, and the measuring helpers they share.
#![allow(dead_code)] // each benchmark uses part of it

pub const BRANDS: &[&str] = &[
    "Darkside",
    "Must Have",
    "Black Burn",
    "Element",
    "Tangiers",
    "Al Fakher",
    "Sebero",
    "Duft",
    "ASUS",
    "MSI",
    "Gigabyte",
    "Palit",
    "Zotac",
    "Sapphire",
    "PowerColor",
    "Bijouterie",
];
pub const MODELS: &[&str] = &[
    "Cola",
    "Bounty Hunter",
    "Pinkman",
    "Milky Rice",
    "Supernova",
    "Mint",
    "Grape",
    "Lemon",
    "RTX 4070",
    "RTX4070 Super",
    "RTX 3070",
    "RTX 4060 Ti",
    "RX 7800 XT",
    "RX 6700",
    "GTX 1660",
    "Or 18K",
    "Or 21K",
    "Gold 24K",
    "Ventus 2X",
    "Gaming OC",
    "Dual",
    "Eagle",
    "Nitro+",
];
pub const WORDS: &[&str] = &[
    "shock", "ice", "berry", "melon", "12GB", "8GB", "16GB", "cassé", "neuf", "used", "blue",
    "red", "white", "pro", "max", "mini", "classic", "strong", "light", "gold", "silver",
];

pub fn names(n: usize) -> Vec<(String, String)> {
    // A small LCG: the same names every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let name = format!(
                "{} {} {} {}",
                BRANDS[next() % BRANDS.len()],
                MODELS[next() % MODELS.len()],
                WORDS[next() % WORDS.len()],
                next() % 1000
            );
            (name, format!("src-{}:item-{i}", i % 50))
        })
        .collect()
}

pub const QUERIES: &[&str] = &[
    "darkside cola",
    "darksid",
    "darkisde",
    "rtx4070",
    "rtx 4070 super",
    "must have pinkman",
    "pinkm",
    "or 18k",
    "ventus",
    "sapphire nitro",
    "gigabyte eagle 8gb",
    "zzzz nothing",
    "al fakher mint",
    "rx7800",
    "strong",
    "b",
];

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Resident memory of this process, in MiB (Linux).
pub fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}
