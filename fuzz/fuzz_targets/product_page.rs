//! The product page extractor (JSON-LD, microdata, OpenGraph, a price
//! selector) on arbitrary HTML, with the configs of two default sources: it
//! must never panic, and a price it returns must not be negative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::config::ProductPageConfig;
use pricehound::sources::product_page::extract;
use pricehound::sources::{SourceKind, SourcesConfig};
use std::sync::LazyLock;

/// The default sources' product page configs, parsed once:
/// `kalyan-lab-alpha-model-x` (structured data only; first input byte even)
/// and `pixelparts-rtx-4070-super` (with a `price_selector`; odd).
static CONFIGS: LazyLock<[ProductPageConfig; 2]> = LazyLock::new(|| {
    let sources = SourcesConfig::default_sources();
    ["kalyan-lab-alpha-model-x", "pixelparts-rtx-4070-super"].map(|id| {
        match &sources.source(id).expect("a default source").kind {
            SourceKind::ProductPage(cfg) => cfg.clone(),
            other => panic!("{id} is a {} source", other.name()),
        }
    })
});

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(html) = std::str::from_utf8(rest) else {
        return;
    };
    let cfg = &CONFIGS[usize::from(pick & 1)];
    let Ok(listing) = extract(html, &cfg.url, cfg) else {
        return;
    };
    if let Some(price) = &listing.price {
        assert!(
            !price.amount.is_sign_negative(),
            "negative price from {:?}",
            listing.price_text
        );
    }
});
