//! The `html_catalog` page parser on arbitrary HTML, with the selectors of
//! two default sources (a marketplace search and a tobacco catalogue): it
//! must never panic, and what it returns must hold together.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::config::HtmlCatalogConfig;
use pricehound::sources::html_catalog::parse_page;
use pricehound::sources::{SourceKind, SourcesConfig};
use std::sync::LazyLock;

/// The default sources' catalogue configs, parsed once: `olx-gpu` (first
/// input byte even) and `htreviews-tobacco` (odd).
static CONFIGS: LazyLock<[HtmlCatalogConfig; 2]> = LazyLock::new(|| {
    let sources = SourcesConfig::default_sources();
    ["olx-gpu", "htreviews-tobacco"].map(|id| {
        match &sources.source(id).expect("a default source").kind {
            SourceKind::HtmlCatalog(cfg) => (**cfg).clone(),
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
    let page_url = &cfg.urls[0];
    let Ok(page) = parse_page(html, page_url, cfg) else {
        return;
    };
    for listing in &page.listings {
        assert!(!listing.name.trim().is_empty(), "a listing without a name");
        if let Some(price) = &listing.price {
            assert!(
                !price.amount.is_sign_negative(),
                "negative price from {:?}",
                listing.price_text
            );
        }
        for link in [&listing.details.url, &listing.details.image]
            .into_iter()
            .flatten()
        {
            assert!(
                link.starts_with("http://") || link.starts_with("https://"),
                "a link that is not http(s): {link:?}"
            );
        }
    }
    if let Some(next) = &page.next_page {
        assert!(
            matches!(next.scheme(), "http" | "https"),
            "next page {next} is not http(s)"
        );
        assert_ne!(next, page_url, "the next page is this page");
    }
});
